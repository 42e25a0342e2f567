//! Docker-shaped JSON types that the CLI prints and the API server returns: field names, order
//! and `null`-versus-omitted exactly as Docker's Engine API (v1.41) has them.

mod container;
mod event;
mod exec;
mod image;
mod network;
mod plugin;
mod progress;
mod storage;
mod volume;

pub use container::*;
pub use event::*;
pub use exec::*;
pub use image::*;
pub use network::*;
pub use plugin::*;
pub use progress::*;
pub use storage::*;
pub use volume::*;
