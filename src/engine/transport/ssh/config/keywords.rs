//! The keywords OpenSSH 9.2 (as built by Debian 12) knows: those drover uses,
//! and all the others, accepted and ignored.

/// A keyword with a meaning here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Keyword {
    Host,
    Match,
    Include,
    IgnoreUnknown,
    HostName,
    User,
    Port,
    IdentityFile,
    /// Collects like `IdentityFile`.
    CertificateFile,
    IdentitiesOnly,
    ProxyJump,
    ProxyCommand,
    ConnectTimeout,
    ServerAliveInterval,
    ServerAliveCountMax,
    StrictHostKeyChecking,
    UserKnownHostsFile,
    GlobalKnownHostsFile,
    ForwardAgent,
    /// Decides whether ssh makes its second ("final") pass.
    CanonicalizeHostname,
    /// The `%k` token, the known_hosts name and a host certificate's principal.
    HostKeyAlias,
    /// Known to ssh, not used by drover: accepted, value not checked.
    Ignored,
}

/// Lowercase names with their meaning; aliases included.
const USED: &[(&str, Keyword)] = &[
    ("host", Keyword::Host),
    ("match", Keyword::Match),
    ("include", Keyword::Include),
    ("ignoreunknown", Keyword::IgnoreUnknown),
    ("hostname", Keyword::HostName),
    ("user", Keyword::User),
    ("port", Keyword::Port),
    ("identityfile", Keyword::IdentityFile),
    ("identityfile2", Keyword::IdentityFile),
    ("certificatefile", Keyword::CertificateFile),
    ("identitiesonly", Keyword::IdentitiesOnly),
    ("proxyjump", Keyword::ProxyJump),
    ("proxycommand", Keyword::ProxyCommand),
    ("connecttimeout", Keyword::ConnectTimeout),
    ("serveraliveinterval", Keyword::ServerAliveInterval),
    // Debian's keepalive patch: both are aliases of ServerAliveInterval.
    ("protocolkeepalives", Keyword::ServerAliveInterval),
    ("setuptimeout", Keyword::ServerAliveInterval),
    ("serveralivecountmax", Keyword::ServerAliveCountMax),
    ("stricthostkeychecking", Keyword::StrictHostKeyChecking),
    ("userknownhostsfile", Keyword::UserKnownHostsFile),
    ("globalknownhostsfile", Keyword::GlobalKnownHostsFile),
    ("forwardagent", Keyword::ForwardAgent),
    ("canonicalizehostname", Keyword::CanonicalizeHostname),
    ("hostkeyalias", Keyword::HostKeyAlias),
];

/// Every other keyword ssh 9.2 accepts (deprecated and unsupported ones too:
/// ssh only warns about those).
const IGNORED: &[&str] = &[
    "addkeystoagent",
    "addressfamily",
    "afstokenpassing",
    "batchmode",
    "bindaddress",
    "bindinterface",
    "canonicaldomains",
    "canonicalizefallbacklocal",
    "canonicalizemaxdots",
    "canonicalizepermittedcnames",
    "casignaturealgorithms",
    "challengeresponseauthentication",
    "checkhostip",
    "cipher",
    "ciphers",
    "clearallforwardings",
    "compression",
    "compressionlevel",
    "connectionattempts",
    "controlmaster",
    "controlpath",
    "controlpersist",
    "dsaauthentication",
    "dynamicforward",
    "enableescapecommandline",
    "enablesshkeysign",
    "escapechar",
    "exitonforwardfailure",
    "fallbacktorsh",
    "fingerprinthash",
    "forkafterauthentication",
    "forwardx11",
    "forwardx11timeout",
    "forwardx11trusted",
    "gatewayports",
    "globalknownhostsfile2",
    "gssapiauthentication",
    "gssapiclientidentity",
    "gssapidelegatecredentials",
    "gssapikexalgorithms",
    "gssapikeyexchange",
    "gssapirenewalforcesrekey",
    "gssapiserveridentity",
    "gssapitrustdns",
    "hashknownhosts",
    "hostbasedacceptedalgorithms",
    "hostbasedauthentication",
    "hostbasedkeytypes",
    "hostkeyalgorithms",
    "ipqos",
    "kbdinteractiveauthentication",
    "kbdinteractivedevices",
    "keepalive",
    "kerberosauthentication",
    "kerberostgtpassing",
    "kexalgorithms",
    "knownhostscommand",
    "localcommand",
    "localforward",
    "loglevel",
    "logverbose",
    "macs",
    "nohostauthenticationforlocalhost",
    "numberofpasswordprompts",
    "passwordauthentication",
    "permitlocalcommand",
    "permitremoteopen",
    "pkcs11provider",
    "preferredauthentications",
    "protocol",
    "proxyusefdpass",
    "pubkeyacceptedalgorithms",
    "pubkeyacceptedkeytypes",
    "pubkeyauthentication",
    "rekeylimit",
    "remotecommand",
    "remoteforward",
    "requesttty",
    "requiredrsasize",
    "revokedhostkeys",
    "rhostsauthentication",
    "rhostsrsaauthentication",
    "rsaauthentication",
    "securitykeyprovider",
    "sendenv",
    "sessiontype",
    "setenv",
    "skeyauthentication",
    "smartcarddevice",
    "stdinnull",
    "streamlocalbindmask",
    "streamlocalbindunlink",
    "syslogfacility",
    "tcpkeepalive",
    "tisauthentication",
    "tunnel",
    "tunneldevice",
    "updatehostkeys",
    "useblacklistedkeys",
    "useprivilegedport",
    "userknownhostsfile2",
    "useroaming",
    "usersh",
    "verifyhostkeydns",
    "visualhostkey",
    "xauthlocation",
];

/// The meaning of a lowercased keyword, `None` if ssh does not know it.
pub(super) fn lookup(keyword: &str) -> Option<Keyword> {
    if let Some((_, k)) = USED.iter().find(|(name, _)| *name == keyword) {
        return Some(*k);
    }
    IGNORED
        .binary_search(&keyword)
        .ok()
        .map(|_| Keyword::Ignored)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignored_list_is_sorted_and_disjoint() {
        assert!(IGNORED.windows(2).all(|w| w[0] < w[1]));
        assert!(IGNORED.iter().all(|k| !USED.iter().any(|(u, _)| u == k)));
        assert_eq!(lookup("ciphers"), Some(Keyword::Ignored));
        assert_eq!(lookup("port"), Some(Keyword::Port));
        assert_eq!(lookup("bogus"), None);
    }
}
