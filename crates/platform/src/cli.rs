//! Command-line conventions shared by the services.

/// The process arguments, with `serve` added when none were given: `cargo run -p backend` and
/// `dapr run -- ai-agent` then start the service without extra words.
pub fn args_defaulting_to_serve() -> Vec<String> {
    let mut args: Vec<String> = std::env::args().collect();
    if args.len() == 1 {
        args.push("serve".to_owned());
    }
    args
}
