//! Usage errors (exit 64) as netlab's one line: clap's message, and what
//! to do about it.
//!
//! Options belong to a subcommand: `serve echo --utc` is refused, as
//! `--utc` is daytime's, and so is `serve --udp echo`, as the options come
//! after the protocol. clap says only "unexpected argument '--utc' found"
//! (and may suggest `--udp`, which looks alike); the hint here says where
//! the option does belong.

use std::process::ExitCode;

use clap::CommandFactory;
use clap::error::{ContextKind, ContextValue, ErrorKind};

use crate::Cli;
use crate::exit::{self, Code};

/// Reports clap's error `e` for the command line `words` (the program's
/// name first) as one line on stderr, and returns 64.
pub fn report(e: &clap::Error, words: &[String]) -> ExitCode {
    let hint = misplaced_option(e, words);
    let hint = hint.as_deref().unwrap_or("see netlab --help");
    exit::report(one_line(&e.render().to_string()), Some(hint), Code::Usage)
}

/// clap's multi-line error as one line: the message paragraph (which may
/// list the missing arguments on lines of their own), without the usage
/// block that follows it.
fn one_line(rendered: &str) -> String {
    let message: Vec<&str> = rendered
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect();
    let joined = message.join(" ");
    let joined = joined.strip_prefix("error: ").unwrap_or(&joined);
    if joined.is_empty() {
        "invalid arguments".to_owned()
    } else {
        joined.to_owned()
    }
}

/// Where an unknown option belongs, when another subcommand of the same
/// command takes it: `--utc is an option of netlab serve daytime, ...`.
fn misplaced_option(e: &clap::Error, words: &[String]) -> Option<String> {
    if e.kind() != ErrorKind::UnknownArgument {
        return None;
    }
    let Some(ContextValue::String(given)) = e.get(ContextKind::InvalidArg) else {
        return None;
    };
    let option = given.split('=').next().unwrap_or(given);
    // Follow the words that name subcommands: `netlab serve echo`.
    let root = Cli::command();
    let mut path = vec![root.get_name().to_owned()];
    let mut parent = None;
    let mut command = &root;
    let mut option_first = false;
    for word in words.iter().skip(1) {
        if word == given {
            option_first = true;
        }
        if let Some(sub) = command.find_subcommand(word) {
            parent = Some(command);
            command = sub;
            path.push(word.clone());
            if takes(command, option) && option_first {
                return Some(format!(
                    "options come after the protocol: {} ... {option}",
                    path.join(" ")
                ));
            }
        }
    }
    let (siblings, at) = if command.has_subcommands() {
        // `netlab serve --port 0`: no protocol was named.
        (command, path.join(" "))
    } else {
        (parent?, path[..path.len() - 1].join(" "))
    };
    let owners: Vec<&str> = siblings
        .get_subcommands()
        .filter(|sub| takes(sub, option))
        .map(|sub| sub.get_name())
        .collect();
    match owners.as_slice() {
        // `connect echo --port 5`: the server's option, or the other way round.
        [] if !command.has_subcommands() && path.len() == 3 => {
            let counterpart = match path[1].as_str() {
                "serve" => "connect",
                "connect" => "serve",
                _ => return None,
            };
            let other = root
                .find_subcommand(counterpart)?
                .find_subcommand(&path[2])?;
            takes(other, option).then(|| {
                format!(
                    "{option} is an option of netlab {counterpart} {}, not of {}; see {} --help",
                    path[2],
                    path.join(" "),
                    path.join(" ")
                )
            })
        }
        [] => None,
        _ if command.has_subcommands() => Some(format!(
            "name the protocol first: {at} {} ... {option}",
            owners.join("|")
        )),
        _ => Some(format!(
            "{option} is an option of {at} {}, not of {}; see {} --help",
            owners.join(" and "),
            path.join(" "),
            path.join(" ")
        )),
    }
}

/// Whether `command` has the option `--name` or `-n` given as `option`.
fn takes(command: &clap::Command, option: &str) -> bool {
    let long = option.strip_prefix("--");
    let short = option
        .strip_prefix('-')
        .filter(|_| long.is_none())
        .and_then(|s| s.chars().next());
    command.get_arguments().any(|arg| {
        long.is_some_and(|l| arg.get_long() == Some(l))
            || short.is_some_and(|s| arg.get_short() == Some(s))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn usage_line(words: &[&str]) -> (String, Option<String>) {
        let e = Cli::try_parse_from(words).unwrap_err();
        let words: Vec<String> = words.iter().map(|w| (*w).to_owned()).collect();
        (
            one_line(&e.render().to_string()),
            misplaced_option(&e, &words),
        )
    }

    #[test]
    fn usage_errors_keep_the_missing_argument() {
        let (line, _) = usage_line(&["netlab", "connect", "echo"]);
        assert!(
            line.starts_with("the following required arguments were not provided:"),
            "{line}"
        );
        assert!(line.contains("<HOST>"), "{line}");
        assert!(!line.contains('\n'));
    }

    #[test]
    fn an_option_of_another_protocol_says_whose_it_is() {
        let (line, hint) = usage_line(&["netlab", "serve", "echo", "-p", "0", "--utc"]);
        assert_eq!(line, "unexpected argument '--utc' found");
        assert_eq!(
            hint.as_deref(),
            Some(
                "--utc is an option of netlab serve daytime, not of netlab serve echo; \
                 see netlab serve echo --help"
            )
        );
        let (_, hint) = usage_line(&["netlab", "serve", "daytime", "-p", "0", "--mode=line"]);
        assert!(
            hint.unwrap()
                .starts_with("--mode is an option of netlab serve echo, not of")
        );
    }

    #[test]
    fn an_option_before_the_protocol_says_where_it_goes() {
        let (_, hint) = usage_line(&["netlab", "serve", "--udp", "echo", "-p", "0"]);
        assert_eq!(
            hint.as_deref(),
            Some("options come after the protocol: netlab serve echo ... --udp")
        );
        let (_, hint) = usage_line(&["netlab", "serve", "--port", "0"]);
        assert_eq!(
            hint.as_deref(),
            Some(
                "name the protocol first: netlab serve daytime|echo|time|discard|chargen ... --port"
            )
        );
    }

    #[test]
    fn a_servers_option_given_to_the_client_says_whose_it_is() {
        let (_, hint) = usage_line(&["netlab", "connect", "echo", "127.0.0.1", "7", "--port", "5"]);
        assert_eq!(
            hint.as_deref(),
            Some(
                "--port is an option of netlab serve echo, not of netlab connect echo; see netlab connect echo --help"
            )
        );
        let (_, hint) = usage_line(&["netlab", "serve", "time", "-p", "0", "--raw"]);
        assert_eq!(
            hint.as_deref(),
            Some(
                "--raw is an option of netlab connect time, not of netlab serve time; see netlab serve time --help"
            )
        );
    }

    #[test]
    fn an_option_nobody_takes_gets_the_general_hint() {
        let (_, hint) = usage_line(&["netlab", "serve", "echo", "-p", "0", "--colour"]);
        assert_eq!(hint, None);
    }
}
