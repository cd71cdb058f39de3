//! The quickstart's printed walkthrough run as pasted: its lines through `bash -e` (as a
//! terminal runs a pasted block, stopping at a failed command), and every line that ends
//! with a comment checked against what it printed. A comment `# <expected>[: <why>]` names
//! HTTP statuses (matched with the status line `curl -i` printed) and text the output
//! holds (an OAuth error code such as `invalid_grant`, `"active":true`).
#![allow(dead_code, unreachable_pub)]

use std::io::{Read, Write};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How long the whole walkthrough may take (it waits out a 3-second race window).
pub const LIMIT: Duration = Duration::from_secs(180);

/// Runs `lines` as one pasted block; how many commented lines were checked, or what went
/// wrong: a command that failed, or each line whose output says otherwise than its comment.
pub fn run_and_check(lines: &[String]) -> Result<usize, String> {
    // A marker after each line tells the lines' outputs apart.
    let script: String =
        lines.iter().enumerate().map(|(i, line)| format!("{line}\nprintf '\\n@@@ {i}\\n'\n")).collect();
    let (status, output, errors) = run_bash(&script, LIMIT);
    if !status.success() {
        return Err(format!("the walkthrough stopped ({status}):\n{output}\n{errors}"));
    }
    let mut outputs = vec![String::new(); lines.len()];
    let mut current = String::new();
    for line in output.lines() {
        match line.strip_prefix("@@@ ").and_then(|i| i.parse::<usize>().ok()) {
            Some(i) if i < outputs.len() => outputs[i] = std::mem::take(&mut current),
            _ => current.push_str(&format!("{line}\n")),
        }
    }
    let mut checked = 0;
    let mut wrong = Vec::new();
    for (line, output) in lines.iter().zip(&outputs) {
        let Some((_, comment)) = line.rsplit_once(" # ").filter(|_| !line.starts_with('#')) else { continue };
        checked += 1;
        if let Err(why) = shows(output, comment) {
            wrong.push(format!("{line}\n  {why}; it printed:\n{output}"));
        }
    }
    if wrong.is_empty() {
        Ok(checked)
    } else {
        Err(format!("the walkthrough says otherwise than it does:\n{}", wrong.join("\n")))
    }
}

/// Runs `script` through `bash -e` (as a terminal runs a pasted block, stopping at a failed
/// command): its exit status, stdout and stderr, or a panic after `limit`.
fn run_bash(script: &str, limit: Duration) -> (ExitStatus, String, String) {
    let mut bash = Command::new("bash")
        .arg("-e")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bash");
    bash.stdin.take().expect("stdin").write_all(script.as_bytes()).expect("the script");
    let read = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut output = String::new();
            let _ = pipe.read_to_string(&mut output);
            output
        })
    };
    let stdout = read(Box::new(bash.stdout.take().expect("stdout")));
    let stderr = read(Box::new(bash.stderr.take().expect("stderr")));
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = bash.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = bash.kill();
            let _ = bash.wait();
            panic!("the walkthrough took longer than {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    (status, stdout.join().expect("stdout"), stderr.join().expect("stderr"))
}

/// Whether `output` (of a walkthrough line) shows what its comment says: each word before
/// the comment's `: ` is an HTTP status (the status line `curl -i` printed) or text the
/// output holds (an OAuth error code, `"active":true`).
pub fn shows(output: &str, comment: &str) -> Result<(), String> {
    let expected = comment.split(": ").next().unwrap_or_default();
    let status =
        output.lines().rfind(|line| line.starts_with("HTTP/")).and_then(|l| l.split_whitespace().nth(1));
    for word in expected.split_whitespace() {
        let ok = if word.len() == 3 && word.bytes().all(|b| b.is_ascii_digit()) {
            status == Some(word)
        } else {
            output.contains(word)
        };
        if !ok {
            return Err(format!("expected {word} (status {status:?})"));
        }
    }
    Ok(())
}
