//! Who is on the other end of the socket: the kernel's peer credentials
//! (`SO_PEERCRED`), never anything the client says about itself.

use axum::extract::connect_info::Connected;
use axum::serve::IncomingStream;
use tokio::net::UnixListener;

/// The connecting process's account, as the kernel gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    pub uid: u32,
    pub pid: Option<i32>,
    /// The account's name; `uid<N>` when it has none.
    pub user: String,
}

impl Peer {
    fn of(stream: &tokio::net::UnixStream) -> Peer {
        match stream.peer_cred() {
            Ok(cred) => Peer {
                uid: cred.uid(),
                pid: cred.pid(),
                user: user_name(cred.uid()),
            },
            // Nothing to go on: a name no policy grants anything to.
            Err(e) => {
                tracing::warn!("no peer credentials on the service socket: {e}");
                Peer {
                    uid: u32::MAX,
                    pid: None,
                    user: "unknown-peer".into(),
                }
            }
        }
    }
}

/// The account name of `uid`, as RBAC names users.
pub fn user_name(uid: u32) -> String {
    nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
        .ok()
        .flatten()
        .map(|u| u.name)
        .unwrap_or_else(|| format!("uid{uid}"))
}

impl Connected<IncomingStream<'_, UnixListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, UnixListener>) -> Peer {
        Peer::of(stream.io())
    }
}
