//! The ssh_config resolver against its oracle, OpenSSH's `ssh -G` (9.2): for each
//! config and host, the lines drover renders must equal the same keys in ssh's
//! output, and a config ssh refuses must be refused here, naming a line ssh names.
//!
//! ssh takes `~` and `%d` in values from the passwd entry but globs `Include`
//! paths with `$HOME`; drover has one home. So comparisons use the real passwd
//! home (ssh with `HOME` set to it), except the tests of relative `Include`s,
//! which use a temp home and skip `userknownhostsfile` (the one rendered key
//! that expands `~`).

use drover::engine::transport::ssh::config::{
    Environment, JumpHost, Overrides, Proxy, SshConfigError, SshConfigFile, StrictHostKeyChecking,
};
use proptest::prelude::*;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use tempfile::TempDir;

const KEYS: [&str; 16] = [
    "host",
    "user",
    "hostname",
    "port",
    "identitiesonly",
    "stricthostkeychecking",
    "serveralivecountmax",
    "serveraliveinterval",
    "identityfile",
    "certificatefile",
    "globalknownhostsfile",
    "userknownhostsfile",
    "forwardagent",
    "connecttimeout",
    "proxycommand",
    "proxyjump",
];

fn passwd() -> (PathBuf, String) {
    let me = nix::unistd::User::from_uid(nix::unistd::getuid())
        .expect("passwd lookup")
        .expect("a passwd entry for the test user");
    (me.dir, me.name)
}

/// `ssh -G`'s lines for the keys drover renders, or its error output.
fn ssh_g(config: &Path, host: &str, ov: &Overrides, home: &Path) -> Result<Vec<String>, String> {
    let mut cmd = Command::new("ssh");
    cmd.arg("-G").arg("-F").arg(config);
    if let Some(u) = &ov.user {
        cmd.arg("-l").arg(u);
    }
    if let Some(p) = ov.port {
        cmd.arg("-p").arg(p.to_string());
    }
    let out = cmd
        .arg(host)
        .env("HOME", home)
        .env("USER", passwd().1)
        .stdin(Stdio::null())
        .output()
        .expect("run `ssh -G` (the OpenSSH 9.2 client must be installed)");
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    Ok(text
        .lines()
        .filter(|l| KEYS.contains(&l.split(' ').next().unwrap_or_default()))
        .map(String::from)
        .collect())
}

/// Line numbers an ssh error message names (`file line N:`).
fn ssh_error_lines(stderr: &str) -> Vec<usize> {
    stderr
        .split("line ")
        .skip(1)
        .filter_map(|t| t.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok())
        .collect()
}

struct Fixture {
    dir: TempDir,
    env: Environment,
    /// `HOME` for ssh.
    ssh_home: PathBuf,
}

impl Fixture {
    /// Our environment is the passwd entry, as ssh's.
    fn new() -> Fixture {
        let (home, user) = passwd();
        let mut env = Environment::new(&home, user);
        env.allow_exec = true;
        Fixture {
            dir: tempfile::tempdir().expect("tempdir"),
            env,
            ssh_home: home,
        }
    }

    /// A temp home with `~/.ssh`, for relative `Include`s.
    fn with_temp_home() -> Fixture {
        let mut f = Fixture::new();
        let home = f.dir.path().join("home");
        std::fs::create_dir_all(home.join(".ssh")).expect("mkdir");
        f.env.home = home.clone();
        f.ssh_home = home;
        f
    }

    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&path, text).expect("write config");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        path
    }

    fn ours(
        &self,
        config: &Path,
        host: &str,
        ov: &Overrides,
    ) -> Result<Vec<String>, SshConfigError> {
        let r = SshConfigFile::load(config, &self.env)?.resolve(host, ov)?;
        Ok(r.render_g().lines().map(String::from).collect())
    }

    /// Our rendering equals ssh's for `host`, or both refuse the config.
    fn check_with(&self, config: &Path, host: &str, ov: &Overrides, skip: &[&str]) {
        let keep = |lines: Vec<String>| -> Vec<String> {
            lines
                .into_iter()
                .filter(|l| !skip.contains(&l.split(' ').next().unwrap_or_default()))
                .collect()
        };
        let text = std::fs::read_to_string(config).unwrap_or_default();
        let ctx = format!("config {}:\n{text}\nhost {host:?} {ov:?}", config.display());
        match (
            self.ours(config, host, ov),
            ssh_g(config, host, ov, &self.ssh_home),
        ) {
            (Ok(ours), Ok(theirs)) => assert_eq!(keep(ours), keep(theirs), "{ctx}"),
            (Err(e), Err(stderr)) => {
                if let Some(via) = stderr.trim().strip_prefix("jumphost loop via ") {
                    assert!(
                        matches!(&e, SshConfigError::JumpLoop { via: ours, .. } if ours == via),
                        "ssh: {stderr}, we: {e}\n{ctx}"
                    );
                    assert!(e.to_string().starts_with(stderr.trim()), "{e}\n{ctx}");
                }
                let lines = ssh_error_lines(&stderr);
                if let SshConfigError::Config { line, .. } = &e
                    && !lines.is_empty()
                {
                    assert!(
                        lines.contains(line),
                        "we name line {line} ({e}), ssh: {stderr}\n{ctx}"
                    );
                }
            }
            (Ok(ours), Err(stderr)) => panic!("ssh refused: {stderr}\nwe gave {ours:#?}\n{ctx}"),
            (Err(e), Ok(_)) => panic!("we refused: {e}\nssh accepted\n{ctx}"),
        }
    }

    fn check(&self, config: &Path, hosts: &[&str]) {
        for h in hosts {
            self.check_with(config, h, &Overrides::default(), &[]);
        }
    }
}

#[test]
fn host_patterns_negation_and_case() {
    let f = Fixture::new();
    let cfg = f.write(
        "config",
        "Host web? !web9 db*\n  Port 2201\nHost Foo\n  User upper\n\
         Host *.example.com !*.internal.example.com\n  Port 2202\nHost *\n  User fallback\n  Port 22\n",
    );
    f.check(
        &cfg,
        &[
            "web1",
            "web9",
            "web10",
            "dbx",
            "Foo",
            "foo",
            "a.example.com",
            "b.internal.example.com",
            "other",
        ],
    );
}

#[test]
fn match_criteria() {
    let f = Fixture::new();
    let user = passwd().1;
    let cfg = f.write(
        "config",
        &format!(
            "Host alias*\n  HostName %h.Example.COM\n\
             Match host alias1.example.com\n  User viahost\n\
             Match originalhost ALIAS2\n  Port 2002\n\
             Match !host *.example.com user {user}\n  ConnectTimeout 7\n\
             Match user viahost\n  ServerAliveInterval 9\n\
             Match localuser {user} host alias3*\n  ServerAliveCountMax 11\n\
             Match localuser nobody-else\n  IdentitiesOnly yes\n\
             Match all\n  StrictHostKeyChecking accept-new\n"
        ),
    );
    f.check(&cfg, &["alias1", "alias2", "alias3", "Alias1", "plain"]);
}

#[test]
fn match_canonical_and_final_take_a_second_pass() {
    let f = Fixture::new();
    let cfg = f.write(
        "config",
        "Host short\n  HostName Short.Example.org\nMatch canonical host short.example.org\n  Port 2100\n\
         Match final host short.example.org\n  User finaluser\nMatch !final\n  ConnectTimeout 3\n",
    );
    f.check(&cfg, &["short", "other"]);
    let canon = f.write(
        "canon",
        "CanonicalizeHostname yes\nMatch canonical\n  Port 2200\nMatch !canonical\n  User firstpass\n",
    );
    f.check(&canon, &["h1"]);
}

#[test]
fn match_exec_runs_with_tokens() {
    let f = Fixture::new();
    let cfg = f.write(
        "config",
        "Match exec \"test %h = yes-host\"\n  Port 2300\nMatch exec false\n  User never\n\
         Match host no-such exec \"touch /nonexistent/dir/x\"\n  User skipped\n",
    );
    f.check(&cfg, &["yes-host", "no-host"]);
    let mut env = f.env.clone();
    env.allow_exec = false;
    let err =
        SshConfigFile::load(&cfg, &env).and_then(|c| c.resolve("yes-host", &Overrides::default()));
    assert!(
        matches!(err, Err(SshConfigError::Config { line: 1, .. })),
        "{err:?}"
    );
}

#[test]
fn include_globs_and_blocks() {
    let f = Fixture::new();
    let d = f.dir.path().display();
    f.write(
        "conf.d/20-b.conf",
        "Host b\n  Port 2020\nHost *\n  IdentityFile ~/.ssh/from_b\n",
    );
    f.write("conf.d/10-a.conf", "Port 2010\nUser from_a\n");
    f.write("conf.d/.hidden.conf", "User hidden\n");
    f.write(
        "inner.conf",
        "User from_inner\nMatch all\n  ConnectTimeout 4\n",
    );
    let cfg = f.write(
        "config",
        &format!(
            "Host inc\n  Include {d}/inner.conf\n  Port 2030\nHost *\n  Include {d}/conf.d/*.conf {d}/missing*.conf\n  User last\n"
        ),
    );
    f.check(&cfg, &["inc", "b", "zzz"]);
}

#[test]
fn relative_includes_live_in_dot_ssh() {
    let f = Fixture::with_temp_home();
    std::fs::create_dir_all(f.env.home.join(".ssh/conf.d")).expect("mkdir");
    for (name, text) in [
        ("conf.d/a.conf", "Host web\n  Port 2222\n"),
        ("conf.d/b.conf", "Host *\n  User rel\n"),
    ] {
        let p = f.env.home.join(".ssh").join(name);
        std::fs::write(&p, text).expect("write");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    }
    let cfg = f.write(
        "config",
        "Include conf.d/*.conf\nInclude ~/.ssh/conf.d/a.conf\n",
    );
    for h in ["web", "db"] {
        f.check_with(&cfg, h, &Overrides::default(), &["userknownhostsfile"]);
    }
}

#[test]
fn include_recursion_and_permissions_are_errors() {
    let f = Fixture::new();
    let looped = f.dir.path().join("loop.conf");
    let cfg = f.write(
        "loop.conf",
        &format!("Port 22\nInclude {}\n", looped.display()),
    );
    let err = SshConfigFile::load(&cfg, &f.env)
        .map(|_| ())
        .expect_err("recursion must fail");
    assert!(err.to_string().contains("recursive"), "{err}");
    assert!(ssh_g(&cfg, "h", &Overrides::default(), &f.ssh_home).is_err());

    let open = f.write("open.conf", "Port 2\n");
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o666)).expect("chmod");
    let cfg = f.write("perm", &format!("Include {}\n", open.display()));
    let err = SshConfigFile::load(&cfg, &f.env)
        .map(|_| ())
        .expect_err("bad permissions must fail");
    assert!(err.to_string().contains("perm:1:"), "{err}");
    assert!(ssh_g(&cfg, "h", &Overrides::default(), &f.ssh_home).is_err());
}

#[test]
fn first_value_wins_and_identity_files_accumulate() {
    let f = Fixture::new();
    let cfg = f.write(
        "config",
        "Host a\n  Port 1001\n  Port 1002\n  IdentityFile ~/.ssh/one\n  IdentityFile %d/two_%h\n\
         ConnectTimeout none\nHost *\n  Port 1003\n  User=first\n  User second\n  IdentityFile ~/.ssh/one\n\
         IdentityFile \"/with space/%r\"\n  ConnectTimeout 30\n  IdentitiesOnly yes\n  IdentitiesOnly no\n",
    );
    f.check(&cfg, &["a", "b"]);
    let r = SshConfigFile::load(&cfg, &f.env)
        .and_then(|c| c.resolve("a", &Overrides::default()))
        .expect("resolves");
    let home = f.env.home.display().to_string();
    let want: Vec<PathBuf> = [
        format!("{home}/.ssh/one"),
        format!("{home}/two_a"),
        "/with space/first".to_owned(),
    ]
    .into_iter()
    .map(PathBuf::from)
    .collect();
    assert_eq!(r.identity_files, want);
    assert!(r.identities_only);
    assert_eq!(r.connect_timeout, Some(Duration::from_secs(30)));
}

#[test]
fn certificate_files_accumulate_and_expand_like_identity_files() {
    let f = Fixture::new();
    let cfg = f.write(
        "config",
        "Host a\n  CertificateFile ~/.ssh/one-cert.pub\n  CertificateFile %d/two_%h_%r\n\
         Host *\n  User u\n  CertificateFile ~/.ssh/one-cert.pub\n  CertificateFile /abs/three\n",
    );
    f.check(&cfg, &["a", "b"]);
    let r = SshConfigFile::load(&cfg, &f.env)
        .and_then(|c| c.resolve("a", &Overrides::default()))
        .expect("resolves");
    let home = f.env.home.display().to_string();
    let want: Vec<PathBuf> = [
        format!("{home}/.ssh/one-cert.pub"),
        format!("{home}/two_a_u"),
        "/abs/three".to_owned(),
    ]
    .into_iter()
    .map(PathBuf::from)
    .collect();
    assert_eq!(r.certificate_files, want);
    let bad = f.write("bad", "CertificateFile\n");
    f.check(&bad, &["a"]);
}

#[test]
fn identity_file_tokens_expand() {
    let env = Environment {
        home: PathBuf::from("/home/tester"),
        local_user: "tester".into(),
        local_host: "box.example.net".into(),
        uid: 1234,
        allow_exec: false,
    };
    let text = "Host *\n  HostName Real.%h\n  User remote\n  Port 2022\n\
                IdentityFile ~/k_%d_%u_%h_%r_%l_%L_%n_%p_%i_%k_%%\n  IdentityFile none\n";
    let r = SshConfigFile::parse_str(text, Path::new("t"), &env)
        .and_then(|c| c.resolve("Alias", &Overrides::default()))
        .expect("resolves");
    assert_eq!(
        r.identity_files,
        [PathBuf::from(
            "/home/tester/k_/home/tester_tester_real.alias_remote_box.example.net_box_Alias_2022_1234_Alias_%"
        )]
    );
    assert!(r.render_g().contains("identityfile none\n"));
    let bad = SshConfigFile::parse_str("IdentityFile %x\n", Path::new("t"), &env)
        .and_then(|c| c.resolve("h", &Overrides::default()));
    assert!(bad.is_err_and(|e| e.to_string().starts_with("t:1:")));
}

#[test]
fn proxy_jump_and_command_share_one_setting() {
    let f = Fixture::new();
    let cases = [
        "ProxyJump u@j1:2200,ssh://v@j2:33,j3\nProxyCommand nc %h %p\n",
        "ProxyCommand nc %h %p # verbatim\nProxyJump j1\n",
        "ProxyJump none\nProxyJump j1\n",
        "ProxyJump none\nProxyCommand nc %h %p\n",
        "ProxyCommand none\nProxyJump j1\n",
        "ProxyJump=10.0.0.1\n",
        "ProxyJump ssh://u@[::1]:23\n",
        "ProxyJump a, b\n",
        "Host nomatch\n  ProxyJump u@\n",
        "ProxyJump h:ssh\n",
        "ProxyCommand none\nProxyCommand nc %h %p\nProxyJump j1\n",
        "Host target\n  ProxyCommand a %h\nHost *\n  ProxyJump j1\n",
        "Host *\n  ProxyJump j1\nHost target\n  ProxyCommand a %h\n",
        "Match host target\n  ProxyCommand ssh -W %h:%p bastion\nHost *\n  ProxyJump none\n",
        "ProxyCommand=socat  -  TCP:%h:%p  # kept as written\n",
        "ProxyCommand sh -c 'printf \"%%s\\n\" %h %p %r %n %k' x\n",
        "ProxyCommand -\n",
        "ProxyCommand NONE\nProxyJump j1\n",
    ];
    for (i, text) in cases.iter().enumerate() {
        let cfg = f.write(&format!("c{i}"), text);
        f.check(&cfg, &["target"]);
    }
    let cfg = f.write("chain", "ProxyJump u@j1:2200,ssh://v@j2:33,j3\n");
    let r = SshConfigFile::load(&cfg, &f.env)
        .and_then(|c| c.resolve("t", &Overrides::default()))
        .expect("resolves");
    let hop = |user: Option<&str>, host: &str, port: Option<u16>| JumpHost {
        user: user.map(String::from),
        host: host.into(),
        port,
    };
    let want = vec![
        hop(Some("u"), "j1", Some(2200)),
        hop(Some("v"), "j2", Some(33)),
        hop(None, "j3", None),
    ];
    assert_eq!(r.proxy, Proxy::Jump(want));
}

#[test]
fn command_line_user_and_port_win() {
    let f = Fixture::new();
    let cfg = f.write(
        "config",
        "Host h\n  User fileuser\n  Port 2000\nMatch user cli\n  ConnectTimeout 5\n",
    );
    let ov = Overrides {
        user: Some("cli".into()),
        port: Some(2999),
    };
    f.check_with(&cfg, "h", &ov, &[]);
    f.check_with(&cfg, "h", &Overrides::default(), &[]);
}

#[test]
fn times_counts_and_flags() {
    let f = Fixture::new();
    let cfg = f.write(
        "config",
        "Host t1\n  ConnectTimeout 1m30s\n  ServerAliveInterval 2h\n  ServerAliveCountMax 0\n\
         StrictHostKeyChecking no\n  ForwardAgent yes\nHost t2\n  ConnectTimeout 1w\n  ServerAliveInterval 45\n\
         StrictHostKeyChecking off\nHost t3\n  ServerAliveInterval 1m5\n  StrictHostKeyChecking yes\n\
         ProtocolKeepAlives 8\nHost t4\n  SetupTimeOut 6\n  StrictHostKeyChecking accept-new\n",
    );
    f.check(&cfg, &["t1", "t2", "t3", "t4"]);
    let r = SshConfigFile::load(&cfg, &f.env)
        .and_then(|c| c.resolve("t1", &Overrides::default()))
        .expect("resolves");
    assert_eq!(r.connect_timeout, Some(Duration::from_secs(90)));
    assert_eq!(r.server_alive_interval, Duration::from_secs(7200));
    assert_eq!(r.strict_host_key_checking, StrictHostKeyChecking::No);
    assert!(r.forward_agent);
}

#[test]
fn known_hosts_files() {
    let f = Fixture::new();
    let cfg = f.write(
        "config",
        "Host k1\n  UserKnownHostsFile ~/.ssh/kh_a %d/kh_%h_%r /abs/%%\n  GlobalKnownHostsFile /etc/g1 ~/g2\n\
         Host k2\n  UserKnownHostsFile none\n  GlobalKnownHostsFile none\nHost *\n  UserKnownHostsFile /late\n",
    );
    f.check(&cfg, &["k1", "k2", "k3"]);
}

#[test]
fn ignore_unknown_applies_from_its_line_on() {
    let f = Fixture::new();
    let ok = f.write(
        "ok",
        "IgnoreUnknown Foo*,bar\nFooThing 1\nBar 2\nPort 2400\n",
    );
    let late = f.write("late", "FooThing 1\nIgnoreUnknown Foo*\n");
    let blocked = f.write(
        "blocked",
        "Host other\n  IgnoreUnknown Foo*\nHost *\n  FooThing 1\n",
    );
    let scoped = f.write(
        "scoped",
        "Host h\n  IgnoreUnknown Foo*\nHost *\n  FooThing 1\n",
    );
    for cfg in [&ok, &late, &blocked, &scoped] {
        f.check(cfg, &["h", "x"]);
    }
}

#[test]
fn bad_lines_fail_even_in_blocks_that_never_match() {
    let f = Fixture::new();
    let bad = [
        "Port 0",
        "Port x",
        "Port 65536",
        "Port 1 2",
        "ConnectTimeout 5ms",
        "ConnectTimeout 1.5",
        "ConnectTimeout 2147483648",
        "ServerAliveInterval -1",
        "ServerAliveCountMax -1",
        "ServerAliveCountMax 2147483648",
        "IdentitiesOnly maybe",
        "StrictHostKeyChecking sometimes",
        "ForwardAgent",
        "Bogus 1",
        "User a b",
        "IdentityFile \"open",
        "UserKnownHostsFile a none",
        "ProxyJump a,",
        "Match foo bar",
        "Match host",
        "Match all host x",
        "IgnoreUnknown a b",
        "Include",
        "Host \"\"",
        "HostName",
        "CanonicalizeHostname maybe",
    ];
    for (i, line) in bad.iter().enumerate() {
        let cfg = f.write(
            &format!("bad{i}"),
            &format!("Host never-matches\n  Port 22\n  {line}\n"),
        );
        f.check(&cfg, &["h"]);
        let err = f.ours(&cfg, "h", &Overrides::default()).expect_err(line);
        assert!(
            err.to_string()
                .starts_with(&format!("{}:3: ", cfg.display())),
            "{line}: {err}"
        );
    }
}

#[test]
fn keywords_drover_ignores_are_accepted() {
    let f = Fixture::new();
    let cfg = f.write(
        "config",
        "Host *\n  Ciphers aes128-ctr\n  ControlMaster auto\n  ControlPath ~/.ssh/cm-%r@%h:%p\n\
         LocalForward 8080 localhost:80\n  SendEnv LANG LC_*\n  AddKeysToAgent yes\n  Compression yes\n\
         ServerAliveCountMax 5\n  KexAlgorithms +diffie-hellman-group14-sha1\n  LogLevel ERROR\n\
         GSSAPIAuthentication no\n  Protocol 2\n  UseRoaming no\n",
    );
    f.check(&cfg, &["h"]);
}

#[test]
fn host_names_lowercased_and_addresses_canonical() {
    let f = Fixture::new();
    let cfg = f.write(
        "config",
        "Host n1\n  HostName MiXeD.Example.COM\nHost n2\n  HostName 0x7f.1\nHost n3\n  HostName 0:0:0:0:0:0:1.2.3.4\nHost n4\n  HostName 7\n",
    );
    f.check(&cfg, &["n1", "n2", "n3", "n4", "UPPER", "10.1.2.3"]);
}

#[test]
fn concrete_hosts_lists_plain_patterns_in_order() {
    let f = Fixture::new();
    f.write("inc.conf", "Host included web1\n");
    let text = format!(
        "Host web1 web2 !web3 web*\nHost db?\nInclude {}/inc.conf\nHost bastion\n",
        f.dir.path().display()
    );
    let cfg = SshConfigFile::parse_str(&text, Path::new("cfg"), &f.env).expect("parses");
    assert_eq!(
        cfg.concrete_hosts(),
        ["web1", "web2", "included", "bastion"]
    );
}

#[test]
fn missing_file_is_empty_and_bad_hosts_are_refused() {
    let f = Fixture::new();
    let cfg = SshConfigFile::load(&f.dir.path().join("absent"), &f.env).expect("missing is empty");
    let r = cfg.resolve("h", &Overrides::default()).expect("resolves");
    assert_eq!(
        (r.user.as_str(), r.port, r.hostname.as_str()),
        (f.env.local_user.as_str(), 22, "h")
    );
    for bad in ["", "-oProxyCommand=x", "a b", "a;b"] {
        assert!(matches!(
            cfg.resolve(bad, &Overrides::default()),
            Err(SshConfigError::InvalidHost(_))
        ));
    }
    let ov = Overrides {
        user: Some("-x".into()),
        port: None,
    };
    assert!(matches!(
        cfg.resolve("h", &ov),
        Err(SshConfigError::InvalidUser(_))
    ));
}

#[test]
fn user_at_host_and_ssh_uris_resolve_as_ssh_does() {
    let f = Fixture::new();
    let cfg = f.write(
        "config",
        "Match user bob\n  Port 2200\n  IdentityFile ~/.ssh/bob_%r\nHost x X\n  User alice\nHost y\n  HostName Y.Example.COM\n",
    );
    for h in [
        "x",
        "bob@x",
        "bob@X",
        "ssh://bob@x:23",
        "ssh://bob@x",
        "ssh://bob;fp=1@X.",
        "ssh://%62ob@y",
        "a@b@x",
        "Bo$b@y",
        "@x",
        "ssh://@x",
        "ssh://x/p",
        "ssh://x:0",
        "ssh://[::1]:22",
        "a;b@x",
        "-a@x",
        "u@-x",
        "ssh://a%3bb@x",
    ] {
        f.check_with(&cfg, h, &Overrides::default(), &[]);
    }
    let zed = Overrides {
        user: Some("zed".into()),
        port: Some(2),
    };
    for h in ["bob@x", "ssh://bob@x:23", "a;b@x"] {
        f.check_with(&cfg, h, &zed, &[]);
    }
}

#[test]
fn jump_loops_are_refused_as_ssh_refuses_them() {
    let f = Fixture::new();
    let cfg = f.write(
        "config",
        "Host a A\n  ProxyJump a\nHost p\n  Port 2222\n  ProxyJump p\nHost q\n  Port 23\n  ProxyJump q:23\n\
         Host r\n  ProxyJump j,r\nHost s\n  HostName t\n  ProxyJump t\nHost u\n  ProxyJump bob@u\n\
         Host v\n  ProxyJump ssh://v:22\nHost w\n  ProxyJump w2\n",
    );
    for h in [
        "a",
        "A",
        "p",
        "q",
        "r",
        "s",
        "u",
        "bob@u",
        "v",
        "ssh://v:2200",
        "w",
    ] {
        f.check_with(&cfg, h, &Overrides::default(), &[]);
    }
    let e = SshConfigFile::load(&cfg, &f.env)
        .and_then(|c| c.resolve("s", &Overrides::default()))
        .expect_err("a loop");
    let text = e.to_string();
    assert!(
        text.starts_with("jumphost loop via t: s jumps through itself (ProxyJump t reaches"),
        "{text}"
    );
}

#[test]
fn cli_prints_like_ssh_g() {
    let f = Fixture::new();
    let home = f.dir.path().join("clihome");
    std::fs::create_dir_all(&home).expect("mkdir");
    let cfg = f.write(
        "config",
        "Host web\n  HostName web.example.com\n  User deploy\n  Port 2222\n",
    );
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_drover"))
            .arg("--state-dir")
            .arg(f.dir.path().join("state"))
            .args(args)
            .env("HOME", &home)
            .env("USER", "cliuser")
            .env("XDG_CONFIG_HOME", f.dir.path().join("xdg"))
            .env_remove("DROVER_STATE_DIR")
            .stdin(Stdio::null())
            .output()
            .expect("run drover")
    };
    let cfg_s = cfg.to_str().expect("utf-8 path");
    let out = run(&["ssh-config", "-F", cfg_s, "web"]);
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let head: Vec<&str> = stdout.lines().take(4).collect();
    assert_eq!(
        head,
        [
            "host web",
            "user deploy",
            "hostname web.example.com",
            "port 2222"
        ]
    );
    let kh = format!(
        "userknownhostsfile {0}/.ssh/known_hosts {0}/.ssh/known_hosts2",
        home.display()
    );
    assert!(stdout.lines().any(|l| l == kh), "{stdout}");

    let out = run(&["-F", cfg_s, "ssh-config", "-l", "other", "-p", "2", "web"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("user other\n") && stdout.contains("port 2\n"),
        "{out:?}"
    );

    let out = run(&["ssh-config", "-F", cfg_s, "ops@web"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("host web\nuser ops\n") && stdout.contains("port 2222\n"),
        "{out:?}"
    );
    let out = run(&["ssh-config", "-F", cfg_s, "ssh://ops@web:2200"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("user ops\n") && stdout.contains("port 2200\n"),
        "{out:?}"
    );
    let looped = f.write("loop", "Host web\n  ProxyJump web\n");
    let out = run(&["ssh-config", "-F", looped.to_str().expect("utf-8"), "web"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("jumphost loop via web"),
        "{out:?}"
    );

    // A longer cycle, which ssh follows by starting ssh after ssh: refused
    // before anything connects, naming every hop.
    let cycle = f.write(
        "cycle",
        "Host a\n  ProxyJump b\nHost b\n  ProxyJump a\nHost *\n  User root\n",
    );
    let cycle_s = cycle.to_str().expect("utf-8");
    let out = run(&["--batch", "run", "-F", cycle_s, "-t", "a", "true"]);
    assert_ne!(out.status.code(), Some(0), "{out:?}");
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        all.contains("a: ProxyJump loop: root@a:22 -> root@b:22 -> root@a:22"),
        "{out:?}"
    );

    let bad = f.write("bad", "Host x\n  Port nope\n");
    let out = run(&["ssh-config", "-F", bad.to_str().expect("utf-8"), "web"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&format!("{}:2:", bad.display())),
        "{out:?}"
    );
}

/// Lines from the part of the language drover implements, including bad ones.
fn config_line() -> impl Strategy<Value = String> {
    let host = prop::sample::subsequence(
        vec![
            "*",
            "web?",
            "!web2",
            "web1",
            "Web1",
            "db*",
            "!db9",
            "*.example.com",
        ],
        1..4,
    )
    .prop_map(|p| format!("Host {}", p.join(" ")));
    let criterion = prop::sample::select(vec![
        "all",
        "host web*",
        "!host db*",
        "originalhost WEB1",
        "user deploy",
        "!user ops",
        "localuser nobody-else",
        "host *.example.com",
        "canonical",
        "final",
        "!final",
        "Host=web*",
        "exec true",
        "!exec false",
        "exec \"test %h = web1\"",
        "all # comment",
    ]);
    let matching =
        prop::collection::vec(criterion, 1..3).prop_map(|c| format!("Match {}", c.join(" ")));
    let setting = prop::sample::select(vec![
        "HostName %h.Example.com",
        "HostName db.internal",
        "Hostname=7",
        "User deploy",
        "User ops",
        "Port 2222",
        "Port=2200",
        "Port 0",
        "IdentityFile ~/.ssh/id_a",
        "IdentityFile %d/k_%h",
        "CertificateFile ~/.ssh/id_a-cert.pub",
        "CertificateFile %d/c_%h_%r",
        "IdentitiesOnly yes",
        "IdentitiesOnly maybe",
        "ProxyJump u@j1:22,j2",
        "ProxyJump none",
        "ProxyJump ssh://v@j3:2022",
        "ProxyCommand nc %h %p",
        "ProxyCommand none",
        "ConnectTimeout 5",
        "ConnectTimeout 1m",
        "ConnectTimeout none",
        "ConnectTimeout 5ms",
        "ServerAliveInterval 30",
        "ServerAliveCountMax 7",
        "StrictHostKeyChecking accept-new",
        "StrictHostKeyChecking off",
        "UserKnownHostsFile ~/kh1 %d/kh_%h",
        "UserKnownHostsFile none",
        "GlobalKnownHostsFile /g1",
        "ForwardAgent yes",
        "ForwardAgent no",
        "IgnoreUnknown Foo*",
        "FooBar 1",
        "Ciphers aes128-ctr",
        "# a comment",
        "",
        "  User \"quoted name\"",
        "CanonicalizeHostname yes",
        "HostName %x",
        "UserKnownHostsFile /kh_%x",
        "ForwardAgent ${HOME}/sock",
        "Host=web1",
        "Host \"web1\" # c",
        "Port ssh",
        "User %u",
        "ProxyJump a, b",
        "ProxyJump [::1]:22",
        "Include /nonexistent/*",
        "IdentityFile none",
        "ServerAliveInterval none",
        "GlobalKnownHostsFile none",
        "HostKeyAlias Foo",
        "\tPort 2201",
        "HostName %h",
        "HostName Web1.EXAMPLE.com",
        "IgnoreUnknown bar*",
        "BarBaz 2",
        "Host web1 !*.example.com",
        "ProxyJump web1",
        "ProxyJump deploy@web1",
        "ProxyJump web1:2222",
        "ProxyJump j1,db9",
        "ProxyJump ssh://ops@web1:22",
    ])
    .prop_map(String::from);
    prop_oneof![1 => host, 1 => matching, 4 => setting]
}

/// Keywords (in odd spellings) for the fuzz test; not `Include`, which could
/// read arbitrary files of the machine.
fn keyword() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "Host ",
        "Match ",
        "match=",
        "HostName ",
        "User ",
        "Port=",
        "IdentityFile ",
        "CertificateFile ",
        "IdentitiesOnly ",
        "ProxyJump ",
        "proxycommand ",
        "ConnectTimeout ",
        "ServerAliveInterval ",
        "ServerAliveCountMax ",
        "StrictHostKeyChecking ",
        "UserKnownHostsFile ",
        "GlobalKnownHostsFile ",
        "ForwardAgent ",
        "IgnoreUnknown ",
        "CanonicalizeHostname ",
        "HostKeyAlias ",
        "Ciphers ",
        "Unknown ",
        "  ",
        "#",
        "\"",
        "Match exec ",
        "Match host ",
    ])
    .prop_map(String::from)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 150, ..ProptestConfig::default() })]

    /// The main file may include (`@INC`) two more random files by a glob.
    #[test]
    fn random_configs_resolve_as_ssh_does(
        lines in prop::collection::vec(prop_oneof![6 => config_line(), 1 => Just("@INC".to_owned())], 0..12),
        a in prop::collection::vec(config_line(), 0..4),
        b in prop::collection::vec(config_line(), 0..4),
    ) {
        let f = Fixture::new();
        f.write("inc/a.conf", &(a.join("\n") + "\n"));
        f.write("inc/b.conf", &(b.join("\n") + "\n"));
        let include = format!("Include {}/inc/*.conf", f.dir.path().display());
        let lines: Vec<&str> = lines.iter().map(|l| if l == "@INC" { include.as_str() } else { l.as_str() }).collect();
        let cfg = f.write("config", &(lines.join("\n") + "\n"));
        for h in ["web1", "Web1", "db9", "x.example.com"] {
            f.check_with(&cfg, h, &Overrides::default(), &[]);
        }
        // Destinations naming a user (and port): `Match user` sees that user.
        for h in ["deploy@web1", "ops@Web1", "ssh://deploy@db9:2200", "ssh://web1.", "a@b@web1"] {
            f.check_with(&cfg, h, &Overrides::default(), &[]);
        }
    }

    #[test]
    fn arbitrary_text_never_panics_and_errors_name_a_line(text in prop_oneof![
        "(?s).{0,400}",
        prop::collection::vec((keyword(), "[ -~\t]{0,24}"), 0..16)
            .prop_map(|ls| ls.iter().map(|(k, a)| format!("{k}{a}")).collect::<Vec<_>>().join("\n")),
    ]) {
        let dir = tempfile::tempdir().expect("tempdir");
        let env = Environment {
            home: dir.path().to_path_buf(),
            local_user: "u".into(),
            local_host: "h".into(),
            uid: 1,
            allow_exec: false,
        };
        let lines = text.split('\n').count();
        let result = SshConfigFile::parse_str(&text, Path::new("fuzz.conf"), &env)
            .and_then(|c| c.resolve("host", &Overrides::default()).map(|r| r.render_g()));
        if let Err(SshConfigError::Config { file, line, .. }) = &result {
            prop_assert!(*line >= 1 && (*line <= lines || file != Path::new("fuzz.conf")), "{result:?}");
            let msg = result.as_ref().err().map(ToString::to_string).unwrap_or_default();
            prop_assert!(msg.starts_with(&format!("{}:{line}: ", file.display())), "{msg}");
        }
    }
}

/// ssh reads lines in order and stops at the first bad one, even when an
/// `IgnoreUnknown` made an unknown keyword's fate depend on the host: a bad
/// value after an unknown keyword is not reported before it.
#[test]
fn the_first_bad_line_in_reading_order_is_the_one_named() {
    let f = Fixture::new();
    let inc = f.dir.path().join("inc");
    f.write("inc/a.conf", "IgnoreUnknown bar*\n");
    f.write("inc/b.conf", "FooBar 1\n");
    let cfg = f.write(
        "config",
        &format!("Include {}/*.conf\nConnectTimeout 5ms\n", inc.display()),
    );
    f.check(&cfg, &["h"]);
    let e = f.ours(&cfg, "h", &Overrides::default()).unwrap_err();
    assert!(e.to_string().contains("b.conf:1"), "{e}");
    // Ignored by the IgnoreUnknown in effect, the unknown keyword lets the
    // later bad value be the error.
    f.write("inc/b.conf", "Barfly 1\n");
    f.check(&cfg, &["h"]);
    let e = f.ours(&cfg, "h", &Overrides::default()).unwrap_err();
    assert!(e.to_string().contains("config:2"), "{e}");
}
