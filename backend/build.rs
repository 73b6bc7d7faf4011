//! `sqlx::migrate!` embeds the migrations at compile time, but on stable Rust the macro cannot
//! tell cargo to watch the directory; without this a new migration file would be missing from
//! the binary (and the tests) until something else forced a rebuild.

fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
