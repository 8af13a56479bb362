//! How `nbw` is linked, for the resident size of `nbw run` (its runner RSS is a measured target).
//!
//! Position-dependent: the binary holds the server, the agent and the engine; as a PIE, the
//! dynamic loader applies ~90,000 relocations at every start, which touches about 4 MiB of
//! pages before `main` runs. A fixed load address costs nothing for a CLI and server binary.
//!
//! Hot functions first: the functions a run executes (`hot-functions.txt`, recorded by
//! `scripts/hot-functions.sh`) are laid out next to each other at the start of `.text`. Left
//! to the default order they are scattered over 27 MB of code, and the kernel maps 64 KiB
//! around every page a run touches: 6.4 MiB of code was resident (`nbw run` peak RSS, 1 cell /
//! 200 cells: 11.2 / 12.0 MiB before, 5.9 / 6.5 MiB in order). A name the binary no longer has (a
//! dependency or the compiler changed) is skipped, so a stale list costs only its benefit.
//! rustc links this target with its own lld, which reads the list; `NBW_LINK_ORDER=off` skips
//! it for a linker that does not.
fn main() {
    println!("cargo:rustc-link-arg-bins=-no-pie");
    println!("cargo:rerun-if-changed=hot-functions.txt");
    println!("cargo:rerun-if-env-changed=NBW_LINK_ORDER");
    let list = std::path::Path::new(&std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"))
        .join("hot-functions.txt");
    let lld = std::env::var("TARGET").is_ok_and(|t| t == "x86_64-unknown-linux-gnu");
    if lld && list.exists() && std::env::var("NBW_LINK_ORDER").as_deref() != Ok("off") {
        // The linker reads a copy in OUT_DIR: cargo keeps this script's output for a target
        // directory shared by clones at other paths, so a path into the clone that ran it could
        // name a clone deleted since.
        let copy =
            std::path::Path::new(&std::env::var("OUT_DIR").expect("set by cargo")).join("hot-functions.txt");
        std::fs::copy(&list, &copy).expect("copying hot-functions.txt to OUT_DIR");
        println!("cargo:rustc-link-arg-bin=nbw=-Wl,--symbol-ordering-file={}", copy.display());
        println!("cargo:rustc-link-arg-bin=nbw=-Wl,--no-warn-symbol-ordering");
    }
}
