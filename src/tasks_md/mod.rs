//! tasks.md and the WP prompt files: parsing, ownership inference, and the
//! finalize pipeline that turns them into a dependency graph and lanes.

mod error;
mod flatyaml;
pub mod lint;
pub mod ownership;
pub mod parse;
pub mod wp;

pub use error::TasksError;
pub use wp::{list_wp_files, load_all, wp_id_from_filename, WpFile};
