//! Interactive sessions through a real pty: the test opens a pty, runs `berth run -it busybox sh`
//! (or `attach`, `exec -it`) on its slave side and plays the terminal on the master side:
//! typing commands, Ctrl-D, `exit N`, the detach keys (Ctrl-P Ctrl-Q, or `--detach-keys`), and
//! getting a detached shell back with `attach`. Docker 20.10 with the docker 28 CLI behaves the
//! same way in the same harness (checked by hand); it prints nothing on detach.

use std::time::Duration;

use crate::harness::*;

/// How long to wait for the shell to answer. Generous: CI machines are slow.
const ANSWER: Duration = Duration::from_secs(60);

const PROMPT: &str = "/ # ";

fn with_busybox() -> Berth {
    let b = Berth::new();
    b.busybox("busybox");
    b
}

/// Waits for the shell's first prompt (the terminal is raw by then).
fn ready(t: &mut Pty) {
    t.wait_raw(ANSWER);
    t.expect(PROMPT, ANSWER);
}

/// Types a command line and waits for `output` on a line of its own.
fn type_line(t: &mut Pty, line: &str, output: &str) {
    t.send(format!("{line}\r").as_bytes());
    t.expect(&format!("\r\n{output}\r\n"), ANSWER);
}

#[test]
fn run_it_shell_echo_and_exit_code() {
    let b = with_busybox();
    let mut t = b.spawn_pty(&["run", "-it", "--name", "sh5", "busybox", "sh"]);
    ready(&mut t);
    type_line(&mut t, "echo hello", "hello");
    // A tty: the shell sees a terminal on its stdio, of the size we set.
    type_line(&mut t, "[ -t 0 ] && echo is-a-tty", "is-a-tty");
    type_line(&mut t, "stty size", "24 80");
    t.send(b"exit 5\r");
    assert_eq!(t.wait_exit(ANSWER), 5, "terminal: {:?}", t.output());
    let st = b.inspect("sh5");
    assert_eq!(st["State"]["Status"], "exited");
    assert_eq!(st["State"]["ExitCode"], 5);
    assert_eq!(st["Config"]["Tty"], true);
    assert_eq!(st["Config"]["OpenStdin"], true);
    // The session is in the log too (json-file, as Docker keeps it for tty containers).
    let logs = b.run(&["logs", "sh5"]).ok();
    assert!(logs.stdout.contains("hello"), "{logs:?}");
}

#[test]
fn run_it_ctrl_d_ends_the_shell_with_0() {
    let b = with_busybox();
    let mut t = b.spawn_pty(&["run", "-it", "--rm", "--name", "eof", "busybox", "sh"]);
    ready(&mut t);
    t.send(b"\x04");
    assert_eq!(t.wait_exit(ANSWER), 0, "terminal: {:?}", t.output());
    wait_for("--rm to remove the container", SOON, || {
        b.ps_status("eof").is_none()
    });
    assert_eq!(mounts_under(&b.root()), Vec::<String>::new());
}

#[test]
fn ctrl_p_ctrl_q_detaches_and_attach_gets_the_shell_back() {
    let b = with_busybox();
    let mut t = b.spawn_pty(&["run", "-it", "--name", "dt", "busybox", "sh"]);
    ready(&mut t);
    type_line(&mut t, "echo hi; X=kept", "hi");
    t.send(b"\x10\x11");
    assert_eq!(t.wait_exit(ANSWER), 0, "terminal: {:?}", t.output());
    drop(t);

    // Detached, not stopped.
    let status = b.ps_status("dt").expect("listed");
    assert!(status.starts_with("Up "), "{status}");
    assert_eq!(b.run(&["ps", "--format", "{{.Names}}"]).ok().stdout, "dt\n");

    // `attach` from another terminal: the same shell (its variable is still set).
    let mut t = b.spawn_pty(&["attach", "dt"]);
    t.wait_raw(ANSWER);
    type_line(&mut t, "echo back $X", "back kept");
    t.send(b"exit\r");
    assert_eq!(t.wait_exit(ANSWER), 0, "terminal: {:?}", t.output());
    let st = &b.inspect("dt")["State"];
    assert_eq!(st["Status"], "exited");
    assert_eq!(st["ExitCode"], 0);
    let id = b.id_of("dt");
    assert_eq!(b.mounts_of(&id), Vec::<String>::new());
}

#[test]
fn attach_detaches_again_and_exit_code_comes_through_attach() {
    let b = with_busybox();
    // `run -d -it` from a terminal: prints the ID and returns.
    let mut t = b.spawn_pty(&["run", "-d", "-it", "--name", "bgsh", "busybox", "sh"]);
    assert_eq!(t.wait_exit(ANSWER), 0, "terminal: {:?}", t.output());
    let id = t.output().trim().to_string();
    assert!(is_full_id(&id), "{id:?}");
    assert_eq!(b.status_of("bgsh"), "running");

    let mut t = b.spawn_pty(&["attach", "bgsh"]);
    t.wait_raw(ANSWER);
    type_line(&mut t, "echo first", "first");
    t.send(b"\x10\x11");
    assert_eq!(t.wait_exit(ANSWER), 0, "terminal: {:?}", t.output());
    assert_eq!(b.status_of("bgsh"), "running");

    let mut t = b.spawn_pty(&["attach", "bgsh"]);
    t.wait_raw(ANSWER);
    type_line(&mut t, "echo second", "second");
    t.send(b"exit 9\r");
    assert_eq!(t.wait_exit(ANSWER), 9, "terminal: {:?}", t.output());
    assert_eq!(b.inspect("bgsh")["State"]["ExitCode"], 9);

    let out = b.run(&["attach", "bgsh"]).fails(1);
    assert_eq!(
        out.stderr,
        "You cannot attach to a stopped container, start it first\n"
    );
}

#[test]
fn custom_detach_keys() {
    let b = with_busybox();
    let mut t = b.spawn_pty(&[
        "run",
        "-it",
        "--detach-keys",
        "ctrl-x,x",
        "--name",
        "cx",
        "busybox",
        "sh",
    ]);
    ready(&mut t);
    // The default keys are now ordinary input: no detach.
    t.send(b"\x10\x11");
    type_line(&mut t, "echo still", "still");
    t.send(b"\x18x");
    assert_eq!(t.wait_exit(ANSWER), 0, "terminal: {:?}", t.output());
    assert_eq!(b.status_of("cx"), "running");

    // `attach --detach-keys` with a single key.
    let mut t = b.spawn_pty(&["attach", "--detach-keys", "ctrl-a", "cx"]);
    t.wait_raw(ANSWER);
    type_line(&mut t, "echo again", "again");
    t.send(b"\x01");
    assert_eq!(t.wait_exit(ANSWER), 0, "terminal: {:?}", t.output());
    assert_eq!(b.status_of("cx"), "running");
    b.run(&["rm", "-f", "cx"]).ok();
}

#[test]
fn exec_it_gives_a_second_shell() {
    let b = with_busybox();
    b.run_d(&["--name", "host", "busybox", "sleep", "1000"]);
    let mut t = b.spawn_pty(&["exec", "-it", "host", "sh"]);
    ready(&mut t);
    type_line(&mut t, "echo inside; [ -t 1 ] && echo tty", "inside\r\ntty");
    t.send(b"exit 3\r");
    assert_eq!(t.wait_exit(ANSWER), 3, "terminal: {:?}", t.output());
    assert_eq!(b.status_of("host"), "running");
}
