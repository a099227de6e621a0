#!/usr/bin/env bash
# The fault matrix: every fault drover must survive, each against real parts (real
# sshd nodes, signals to a real drover process, a tmpfs state dir that fills),
# printed one line per row with its figures (time to end, processes left, bytes or
# records lost). A row whose test fails prints FAILED. Needs root (sshd fleets,
# network namespaces, mount) and tmux, as scripts/test.sh does; with
# DROVER_REQUIRE_FLEET=1 (set here) a missing prerequisite fails its row.
#
#   scripts/faults.sh            # the whole matrix
#   scripts/faults.sh sig        # only rows whose name contains "sig"
set -uo pipefail
cd "$(dirname "$0")/.."
export DROVER_REQUIRE_FLEET=1
only="${1:-}"

# row | test suite (binary) | test path (exact)
rows=(
  "node-down|ssh|ssh_faults::refused_node_fails_alone_with_connection"
  "node-wedged|ssh|ssh_faults::wedged_node_times_out_on_connect_timeout"
  "sshd-killed-mid-run|ssh|ssh_faults::connection_dropped_mid_run_fails_that_node_with_connection"
  "unknown-host-key|ssh|ssh_faults::unknown_host_key_fails_in_batch_and_says_how_to_fix"
  "changed-host-key|ssh|ssh_faults::changed_host_key_is_refused_even_with_accept_new_or_no"
  "auth-failure|ssh|ssh_faults::refused_key_names_the_key_files_tried"
  "broken-ssh-config|ssh|ssh_faults::invalid_ssh_config_refuses_the_run_naming_file_and_line"
  "broken-ssh-config-cli|fidelity|inventory_cli::a_broken_ssh_config_line_refuses_every_run_and_list_warns"
  "20mb-per-node|ssh|ssh_faults::twenty_megabytes_per_node_arrive_whole_and_are_counted"
  "hostile-output|cli|batch_cli::hostile_output_is_raw_on_a_pipe_but_sanitised_in_history"
  "bashrc-stderr-kill|ssh|ssh_faults::bashrc_on_stderr_neither_breaks_the_kill_nor_sees_the_marker"
  "secret-env-argv|ssh|ssh_faults::secret_env_never_reaches_a_process_table_on_the_node"
  "drover-killed|ssh|ssh_faults::killed_drover_takes_its_remote_commands_with_it"
  "kill-9-history|cli|crash_recovery::killed_drover_leaves_an_interrupted_execution_behind"
  "network-cut|ssh|ssh_faults::network_cut_ends_the_run_at_timeout_plus_a_bounded_stop"
  "server-alive-cut|ssh|ssh_faults::a_cut_link_with_server_alive_ends_the_run_without_a_timeout"
  "bastion-reset|ssh|ssh_faults::bastion_reset_fails_only_started_nodes_and_is_logged_once"
  "ctrl-c-local|cli|batch_cli::ctrl_c_cancels_exits_130_and_kills_the_tree"
  "ctrl-c-ssh|ssh|ssh_transport::ctrl_c_exits_130_and_ends_the_remote_processes"
  "sigterm-sighup-local|cli|batch_cli::sigterm_and_sighup_cancel_exit_128_plus_the_signal_and_kill_the_tree"
  "sigterm-sighup-task|cli|tasks::sigterm_and_sighup_cancel_a_task_run_and_end_its_processes"
  "sigterm-sighup-ssh|ssh|ssh_faults::sigterm_and_sighup_cancel_the_run_and_end_the_remote_commands"
  "sigterm-plan|engine|plans::sigterm_cancels_a_plan_run_and_exits_143"
  "second-signal|cli|batch_cli::a_second_sigterm_during_the_grace_leaves_at_once"
  "second-signal-plan|engine|plans::a_second_sigterm_leaves_a_plan_run_at_once"
  "sighup-console|console|console_tmux::sighup_cancels_the_running_work_and_exits_129"
  "malformed-inventory|cli|batch_cli::malformed_inventory_exits_2_with_path_and_line"
  "huge-node-set|cli|batch_cli::an_absurd_node_set_is_refused_fast_and_runs_nothing"
  "disk-full|cli|crash_recovery::a_full_disk_mid_run_still_records_the_true_outcome"
  "disk-full-no-reserve|cli|crash_recovery::a_full_disk_without_reserve_says_so_and_the_next_start_records_the_truth"
  "corrupt-state-dir|cli|batch_cli::a_corrupt_database_exits_2_naming_it_runs_nothing_and_keeps_the_file"
  "two-writers|cli|batch_cli::two_drovers_on_one_state_dir_both_record_everything"
  "secret-redaction|cli|rbac_cli::secrets_never_reach_the_state_dir_logs_or_json_output"
  "pg-restart|ssh|team_store::a_postgres_restart_mid_run_loses_nothing_and_is_logged"
  "pg-down-status|ssh|team_store::status_names_an_unreachable_store_and_a_run_holds_its_writes_through_it"
)

selected=()
binaries=()
for row in "${rows[@]}"; do
  IFS='|' read -r name bin _ <<<"$row"
  [[ -z "$only" || "$name" == *"$only"* ]] || continue
  selected+=("$row")
  [[ " ${binaries[*]} " == *" $bin "* ]] || binaries+=("$bin")
done
[ ${#selected[@]} -gt 0 ] || { echo "faults.sh: no row matches '$only'" >&2; exit 2; }

# One build for every binary, so the rows' times are the tests' own.
build_args=()
for bin in "${binaries[@]}"; do build_args+=(--test "$bin"); done
if ! cargo test --no-run -q "${build_args[@]}" 2>/tmp/faults-build.$$; then
  cat /tmp/faults-build.$$ >&2
  rm -f /tmp/faults-build.$$
  exit 1
fi
rm -f /tmp/faults-build.$$

failed=0
started=$(date +%s)
for row in "${selected[@]}"; do
  IFS='|' read -r name bin test <<<"$row"
  log=$(cargo test -q --test "$bin" -- --exact "$test" --nocapture --test-threads=1 2>&1)
  status=$?
  figures=$(grep -o 'FAULT-ROW .*' <<<"$log" | sed 's/^FAULT-ROW //')
  if [ $status -ne 0 ]; then
    failed=$((failed + 1))
    reason=$(grep -m1 -A1 "panicked at" <<<"$log" | tail -1)
    printf '%-22s FAILED  %s::%s: %s\n' "$name" "$bin" "$test" "${reason:-exit $status}"
  elif [ -z "$figures" ]; then
    failed=$((failed + 1))
    printf '%-22s FAILED  %s::%s printed no figure\n' "$name" "$bin" "$test"
  else
    while IFS= read -r figure; do
      printf '%-22s ok      %s\n' "$name" "$figure"
    done <<<"$figures"
  fi
done
echo "faults.sh: ${#selected[@]} rows, $failed failed, $(($(date +%s) - started)) s"
[ $failed -eq 0 ]
