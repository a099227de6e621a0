//! Task modules shaped like the public puppetlabs ones (package, facts,
//! service): a Ruby implementation listed before the shell one, a PowerShell
//! one, `files` with a shared library and a whole `lib/` directory, `Sensitive`
//! parameters, private helper tasks, a task without metadata and a broken
//! sibling. Every implementation that must never run leaves a marker if it does.

use std::path::Path;

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = if text.starts_with("#!") { 0o755 } else { 0o644 };
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
}

/// `MODULES/pkg` and `MODULES/ruby_helper`. `pkg` (init.json) takes `dest`, a
/// directory where its shell implementation writes `out.<pid>`: a line built by
/// functions from `pkg/files/common.sh` and `pkg/lib/util/fmt.sh`.
pub fn write_pkg(modules: &Path) {
    let tasks = modules.join("pkg/tasks");
    write(
        &tasks.join("init.json"),
        r#"{
  "description": "Manage packages (shaped like puppetlabs-package)",
  "input_method": "stdin",
  "parameters": {
    "action": {"type": "Enum[install, status, uninstall, upgrade]"},
    "name": {"type": "String[1]"},
    "dest": {"type": "String[1]"},
    "token": {"type": "Optional[Sensitive[String[1]]]"},
    "version": {"type": "Optional[String[1]]"},
    "opts": {"type": "Optional[Struct[{mode => Enum[fast, safe], Optional[retries] => Integer[0, 5]}]]"}
  },
  "implementations": [
    {"name": "init.rb", "requirements": ["puppet-agent"], "files": ["ruby_helper/files/task_helper.rb"]},
    {"name": "windows.ps1", "requirements": ["powershell"], "input_method": "powershell"},
    {"name": "linux.sh", "requirements": ["shell"], "input_method": "environment",
     "files": ["pkg/files/common.sh", "pkg/lib/"]}
  ],
  "extensions": {"discovery": {"friendlyName": "Manage package", "type": ["package"]}}
}"#,
    );
    // Runs only if wrongly chosen: a marker beside the output.
    write(
        &tasks.join("init.rb"),
        "#!/bin/sh\ntouch \"$PT_dest/ruby-ran\"\necho '{\"impl\":\"ruby\"}'\n",
    );
    write(
        &tasks.join("windows.ps1"),
        "#!/bin/sh\ntouch \"$PT_dest/powershell-ran\"\n",
    );
    write(
        &tasks.join("linux.sh"),
        "#!/bin/sh\nset -e\n. \"$PT__installdir/pkg/files/common.sh\"\n\
         . \"$PT__installdir/pkg/lib/util/fmt.sh\"\n\
         line=$(fmt_line \"$PT_action\" \"$PT_name\")\n\
         printf '%s token_len=%s\\n' \"$line\" \"${#PT_token}\" > \"$PT_dest/out.$$\"\n\
         success \"$line\"\n",
    );
    write(
        &tasks.join("linux.json"),
        r#"{
  "description": "Manage packages without a puppet agent",
  "private": true,
  "description": "Manage packages without a puppet agent (last key wins)",
  "input_method": "environment",
  "parameters": {"action": {"type": "String"}, "name": {"type": "String"}, "dest": {"type": "String"}},
  "files": ["pkg/files/common.sh", "pkg/lib/"]
}"#,
    );
    write(
        &tasks.join("windows.json"),
        r#"{"private": true, "puppet_task_version": 1, "input_method": "powershell",
            "parameters": {"name": {"type": "String"}}}"#,
    );
    write(
        &tasks.join("psonly.json"),
        r#"{"description": "Windows only",
            "implementations": [{"name": "windows.ps1", "requirements": ["powershell"]}]}"#,
    );
    write(
        &tasks.join("agentonly.json"),
        r#"{"description": "Needs the Puppet agent",
            "parameters": {"dest": {"type": "String[1]"}},
            "implementations": [{"name": "init.rb", "requirements": ["puppet-agent"]}]}"#,
    );
    // A task Bolt runs without metadata: any parameters, input both ways.
    write(
        &tasks.join("nometa.sh"),
        "#!/bin/sh\nprintf '{\"greeting\":\"%s\"}\\n' \"$PT_greeting\"\n",
    );
    write(&tasks.join("README.md"), "not a task\n");
    // A broken sibling: an unknown type.
    write(
        &tasks.join("broken.json"),
        r#"{"parameters": {"x": {"type": "Strng"}}}"#,
    );
    write(&tasks.join("broken.sh"), "#!/bin/sh\necho broken\n");
    write(
        &modules.join("pkg/files/common.sh"),
        "success() { printf '{\"status\":\"%s\"}\\n' \"$1\"; }\n",
    );
    write(
        &modules.join("pkg/lib/util/fmt.sh"),
        "fmt_line() { printf '%s:%s' \"$1\" \"$2\"; }\n",
    );
    write(
        &modules.join("ruby_helper/files/task_helper.rb"),
        "# helper for the Ruby implementation\n",
    );
}

/// `CONFIG_HOME/drover/config.toml` with this task path.
pub fn task_config(config_home: &Path, path: &[&Path]) {
    let list: Vec<String> = path
        .iter()
        .map(|p| format!("{:?}", p.display().to_string()))
        .collect();
    write(
        &config_home.join("drover/config.toml"),
        &format!("[tasks]\npath = [{}]\n", list.join(", ")),
    );
}
