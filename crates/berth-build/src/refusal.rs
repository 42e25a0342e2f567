//! [`Refusal`]: every Dockerfile, instruction or argument the builder refuses, and [`Missing`]:
//! everything it needs and cannot find, each with Docker's classic builder's words (berth's own
//! where berth refuses what Docker would do: other platforms, the network). They are the two
//! typed halves of [`BuildError`](crate::builder::BuildError)'s `Invalid` and `NotFound`.

use crate::context::ContextError;
use crate::instructions::InstructionError;
use crate::parser::ParseError;
use crate::shell::ShellError;

/// A build the builder refuses (HTTP 400).
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// The Dockerfile does not parse.
    #[error("failed to parse {name}: {}", .error.message())]
    Parse {
        /// The Dockerfile's name.
        name: String,
        /// The parser's reason.
        error: ParseError,
    },
    /// An `ONBUILD` trigger does not parse.
    #[error("{}", .0.message())]
    Trigger(ParseError),
    /// An instruction that cannot be used as written.
    #[error(transparent)]
    Instruction(#[from] InstructionError),
    /// A word that does not expand (Docker's shell-word rules).
    #[error(transparent)]
    Expansion(#[from] ShellError),
    /// An `EXPOSE` port that is no number or range.
    #[error("Invalid containerPort: {0}")]
    ContainerPort(String),
    /// An `EXPOSE` range whose end is below its start.
    #[error("Invalid range specified for the Port: {0}")]
    PortRange(String),
    /// An `EXPOSE` protocol other than tcp, udp or sctp.
    #[error("Invalid proto: {0}")]
    Proto(String),
    /// A Dockerfile that makes no image.
    #[error("No image was generated. Is your Dockerfile empty?")]
    Empty,
    /// `--target` names no stage.
    #[error("failed to reach build target {0} in Dockerfile")]
    NoTarget(String),
    /// Two stages with one name.
    #[error("{0} stage name already used")]
    StageNameUsed(String),
    /// `FROM --platform=` whose arguments do not expand.
    #[error("failed to process arguments for platform {platform}: {error}")]
    PlatformArgs {
        /// The platform as written.
        platform: String,
        /// Why it does not expand.
        error: ShellError,
    },
    /// `FROM --platform=` another machine's platform (berth's words: it builds for this one).
    #[error("failed to parse platform {platform}: berth builds only for this machine's platform (linux/{host}); running other architectures needs emulation")]
    ForeignPlatform {
        /// The platform asked for.
        platform: String,
        /// This machine's architecture.
        host: String,
    },
    /// `FROM` whose image name expands to nothing.
    #[error("base name ({0}) should not be blank")]
    BlankBase(String),
    /// An `ONBUILD` trigger of several instructions.
    #[error("onbuild trigger should be a single expression")]
    TriggerNotSingle,
    /// `WORKDIR` that expands to nothing.
    #[error("cannot normalize nothing")]
    EmptyWorkdir,
    /// A `VOLUME` that expands to nothing.
    #[error("VOLUME specified can not be an empty string")]
    EmptyVolume,
    /// A `STOPSIGNAL` Linux does not have.
    #[error("Invalid signal: {0}")]
    Signal(String),
    /// A `RUN` heredoc with a `#!` line (berth's words).
    #[error("RUN heredocs starting with #! (a script for another interpreter) are not supported by berth's builder; use RUN <interpreter> <<EOF")]
    ShebangHeredoc,
    /// `--chmod` that is no octal mode.
    #[error("invalid chmod parameter: {0}")]
    Chmod(String),
    /// `--from` naming the stage being built.
    #[error("invalid from flag value {0}: refers to current build stage")]
    FromCurrentStage(String),
    /// `--from` naming a stage index beyond the ones built.
    #[error("invalid from flag value {0}: index out of bounds")]
    FromOutOfBounds(String),
    /// `--from` naming an image that cannot be had.
    #[error("invalid from flag value {from}: {error}")]
    From {
        /// The value as written.
        from: String,
        /// Why the image cannot be had.
        error: Box<crate::builder::BuildError>,
    },
    /// A URL source for `COPY`.
    #[error("source can't be a URL for COPY")]
    UrlForCopy,
    /// A URL source for `ADD` (berth's builder does not reach the network).
    #[error("{instruction} failed: downloading {src} needs the network, which berth's builder does not reach; download it into the build context and ADD or COPY the file")]
    UrlNeedsNetwork {
        /// `ADD`.
        instruction: String,
        /// The URL.
        src: String,
    },
    /// A git source (berth's builder does not reach the network).
    #[error("{instruction} failed: git sources ({src}) need the network, which berth's builder does not reach")]
    GitNeedsNetwork {
        /// `ADD` or `COPY`.
        instruction: String,
        /// The source.
        src: String,
    },
    /// A source of `ADD`/`COPY` that is not there.
    #[error("{instruction} failed: {missing}")]
    SourceMissing {
        /// `ADD` or `COPY`.
        instruction: String,
        /// What is missing.
        missing: Missing,
    },
    /// `ADD`/`COPY` without sources.
    #[error("{0} failed: no source files were specified")]
    NoSources(String),
    /// Several sources into a destination without a trailing `/`.
    #[error("When using {0} with more than one source file, the destination must be a directory and end with a /")]
    DestinationNotDirectory(String),
    /// `--chown` naming a user or group the image does not have.
    #[error("unable to convert uid/gid chown string to host mapping: can't find {what} for {kind} {name}: no such {kind}: {name}")]
    Chown {
        /// `uid` or `gid`.
        what: &'static str,
        /// `user` or `group`.
        kind: &'static str,
        /// The name as written.
        name: String,
    },
    /// A context or image source pattern that cannot be read.
    #[error(transparent)]
    Context(ContextError),
    /// A base image whose pull was refused (the registry's words).
    #[error("{0}")]
    Pull(String),
}

/// Something the build needs that is not there (HTTP 404).
#[derive(Debug, thiserror::Error)]
pub enum Missing {
    /// An image by that name or ID.
    #[error("No such image: {0}")]
    Image(String),
    /// A source in the context or an image.
    #[error(transparent)]
    Source(ContextError),
    /// A base image the registry does not have (its words).
    #[error("{0}")]
    Pull(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builder::BuildError;

    #[test]
    fn refusals_keep_the_classic_builders_words() {
        let missing = Missing::Image("base".into());
        let cases: [(BuildError, &str); 5] = [
            (
                Refusal::Empty.into(),
                "No image was generated. Is your Dockerfile empty?",
            ),
            (
                Refusal::FromOutOfBounds("3".into()).into(),
                "invalid from flag value 3: index out of bounds",
            ),
            (
                Refusal::DestinationNotDirectory("COPY".into()).into(),
                "When using COPY with more than one source file, the destination must be a directory and end with a /",
            ),
            (
                Refusal::Chown {
                    what: "uid",
                    kind: "user",
                    name: "bob".into(),
                }
                .into(),
                "unable to convert uid/gid chown string to host mapping: can't find uid for user bob: no such user: bob",
            ),
            (
                Refusal::SourceMissing {
                    instruction: "ADD".into(),
                    missing,
                }
                .into(),
                "ADD failed: No such image: base",
            ),
        ];
        for (e, text) in cases {
            assert_eq!(e.to_string(), text);
        }
    }
}
