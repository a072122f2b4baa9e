//! The `specsim` binary: parses arguments and hands over to the library.

fn main() {
    std::process::exit(specsim::cli::main());
}
