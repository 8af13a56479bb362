//! Links `nbw` as a position-dependent executable. The binary holds the server, the agent and
//! the engine; as a PIE, the dynamic loader applies ~90,000 relocations at every start, which
//! touches about 4 MiB of pages before `main` runs. `nbw run` must stay small (its runner RSS
//! is a measured target), and a fixed load address costs nothing for a CLI and server binary.
fn main() {
    println!("cargo:rustc-link-arg-bins=-no-pie");
}
