//! The command-line grammar: docker's global flags and commands, as clap types. Parsing only;
//! each command's behaviour lives in `commands/`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// berth: a Docker-compatible container engine whose storage is first class.
#[derive(Debug, Parser)]
#[command(
    name = "berth",
    disable_version_flag = true,
    disable_help_subcommand = true,
    about = "A Docker-compatible container engine whose storage system is first class",
    after_help = "Run 'berth COMMAND --help' for more information on a command."
)]
pub struct Cli {
    /// Data root of images, containers and volumes.
    #[arg(
        long,
        env = "BERTH_ROOT",
        default_value = "/var/lib/berth",
        global = true
    )]
    pub root: PathBuf,
    /// Storage driver for a new data root: overlay (overlay2) or vfs [default: overlay where the
    /// kernel and backing filesystem support it, else vfs].
    #[arg(long = "storage-driver", env = "BERTH_STORAGE_DRIVER", global = true)]
    pub storage_driver: Option<String>,
    /// Logging level (debug, info, warn, error, fatal).
    #[arg(long = "log-level", short = 'l', default_value = "info", global = true)]
    pub log_level: String,
    /// Print version information and quit.
    #[arg(short = 'v', long = "version")]
    pub version: bool,
    /// The command.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show the berth version information.
    Version(FormatArg),
    /// Display system-wide information.
    Info(FormatArg),
    /// Import the contents from a tarball to create a filesystem image.
    Import(ImportArgs),
    /// Load an image from a tar archive or STDIN.
    Load(LoadArgs),
    /// Save one or more images to a tar archive (streamed to STDOUT by default).
    Save(SaveArgs),
    /// List images.
    Images(ImagesArgs),
    /// Remove one or more images.
    Rmi(RmiArgs),
    /// Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE.
    Tag(TagArgs),
    /// Show the history of an image.
    History(HistoryArgs),
    /// Return low-level information on berth objects.
    Inspect(InspectArgs),
    /// Manage images.
    #[command(subcommand)]
    Image(ImageCommand),
}

/// `image` subcommands.
#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// List images.
    #[command(alias = "list")]
    Ls(ImagesArgs),
    /// Display detailed information on one or more images.
    Inspect(ImageInspectArgs),
    /// Remove one or more images.
    #[command(alias = "remove")]
    Rm(RmiArgs),
    /// Remove unused images.
    Prune(ImagePruneArgs),
    /// Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE.
    Tag(TagArgs),
    /// Show the history of an image.
    History(HistoryArgs),
    /// Import the contents from a tarball to create a filesystem image.
    Import(ImportArgs),
    /// Load an image from a tar archive or STDIN.
    Load(LoadArgs),
    /// Save one or more images to a tar archive.
    Save(SaveArgs),
}

/// A lone `--format`.
#[derive(Debug, Args)]
pub struct FormatArg {
    /// Format the output using the given Go template.
    #[arg(short = 'f', long)]
    pub format: Option<String>,
}

/// `import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Apply Dockerfile instruction to the created image.
    #[arg(short = 'c', long = "change")]
    pub change: Vec<String>,
    /// Set commit message for imported image.
    #[arg(short = 'm', long = "message")]
    pub message: Option<String>,
    /// Set platform if server is multi-platform capable (accepted, must be this machine's).
    #[arg(long)]
    pub platform: Option<String>,
    /// Tarball path, or `-` for STDIN.
    #[arg(value_name = "file|-")]
    pub source: String,
    /// Name for the new image.
    #[arg(value_name = "REPOSITORY[:TAG]")]
    pub reference: Option<String>,
}

/// `load`.
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Read from tar archive file, instead of STDIN.
    #[arg(short = 'i', long = "input")]
    pub input: Option<PathBuf>,
    /// Suppress the load output.
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

/// `save`.
#[derive(Debug, Args)]
pub struct SaveArgs {
    /// Write to a file, instead of STDOUT.
    #[arg(short = 'o', long = "output")]
    pub output: Option<PathBuf>,
    /// Archive layout: `docker` (docker save's classic layout) or `oci-archive`.
    #[arg(long, default_value = "docker")]
    pub format: String,
    /// Images.
    #[arg(value_name = "IMAGE", required = true)]
    pub images: Vec<String>,
}

/// `images` / `image ls`.
#[derive(Debug, Args)]
pub struct ImagesArgs {
    /// Show all images (default hides intermediate images).
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Show digests.
    #[arg(long)]
    pub digests: bool,
    /// Filter output based on conditions provided.
    #[arg(short = 'f', long = "filter")]
    pub filter: Vec<String>,
    /// Pretty-print images using a Go template.
    #[arg(long)]
    pub format: Option<String>,
    /// Don't truncate output.
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
    /// Only show image IDs.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Restrict to a repository (and tag).
    #[arg(value_name = "REPOSITORY[:TAG]")]
    pub reference: Option<String>,
}

/// `rmi` / `image rm`.
#[derive(Debug, Args)]
pub struct RmiArgs {
    /// Force removal of the image.
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Do not delete untagged parents.
    #[arg(long = "no-prune")]
    pub no_prune: bool,
    /// Images.
    #[arg(value_name = "IMAGE", required = true)]
    pub images: Vec<String>,
}

/// `tag`.
#[derive(Debug, Args)]
pub struct TagArgs {
    /// Source image.
    #[arg(value_name = "SOURCE_IMAGE[:TAG]")]
    pub source: String,
    /// New name.
    #[arg(value_name = "TARGET_IMAGE[:TAG]")]
    pub target: String,
}

/// `history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Print sizes and dates in human readable format.
    #[arg(short = 'H', long, default_value_t = true, action = clap::ArgAction::Set)]
    pub human: bool,
    /// Don't truncate output.
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
    /// Only show image IDs.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Pretty-print using a Go template.
    #[arg(long)]
    pub format: Option<String>,
    /// The image.
    #[arg(value_name = "IMAGE")]
    pub image: String,
}

/// `image inspect`.
#[derive(Debug, Args)]
pub struct ImageInspectArgs {
    /// Format the output using the given Go template.
    #[arg(short = 'f', long)]
    pub format: Option<String>,
    /// Images.
    #[arg(value_name = "IMAGE", required = true)]
    pub images: Vec<String>,
}

/// `inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Format the output using the given Go template.
    #[arg(short = 'f', long)]
    pub format: Option<String>,
    /// Display total file sizes if the type is container.
    #[arg(short = 's', long)]
    pub size: bool,
    /// Return JSON for specified type.
    #[arg(long = "type")]
    pub kind: Option<String>,
    /// Names or IDs.
    #[arg(value_name = "NAME|ID", required = true)]
    pub names: Vec<String>,
}

/// `image prune`.
#[derive(Debug, Args)]
pub struct ImagePruneArgs {
    /// Remove all unused images, not just dangling ones.
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Do not prompt for confirmation.
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Provide filter values.
    #[arg(long = "filter")]
    pub filter: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grammar_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
