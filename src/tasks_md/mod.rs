//! `tasks.md` and the `tasks/WPxx-*.md` work package files.

pub mod wp;

pub use wp::{list_wp_files, load_all, wp_id_from_filename, WpFile};
