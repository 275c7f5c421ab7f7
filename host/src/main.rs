//! The `kefu` binary. Everything lives in the library; see `cli.rs`.

fn main() -> anyhow::Result<()> {
    kefu::cli::main()
}
