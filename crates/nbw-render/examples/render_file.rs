//! Renders an output notebook into a standalone HTML page with nbw's notebook stylesheet.
//!
//! `cargo run -p nbw-render --example render_file -- OUT.ipynb page.html`

use std::{env, fs, process::ExitCode};

use nbw_render::{NOTEBOOK_CSS, RenderOptions, render_notebook};

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let [input, output] = args.as_slice() else {
        eprintln!("usage: render_file NOTEBOOK.ipynb PAGE.html");
        return ExitCode::FAILURE;
    };
    let notebook = match fs::read_to_string(input).map(|t| serde_json::from_str(&t)) {
        Ok(Ok(notebook)) => notebook,
        Ok(Err(e)) => return fail(&format!("{input}: {e}")),
        Err(e) => return fail(&format!("{input}: {e}")),
    };
    let rendered = render_notebook(&notebook, &RenderOptions::default());
    let banner = rendered.failed_cell().map_or(String::new(), |cell| {
        format!("<p class=\"banner\">Failed at <a href=\"#{}\">cell {}</a></p>", cell.anchor, cell.index + 1)
    });
    let page = format!(
        "<!doctype html><meta charset=\"utf-8\"><title>notebook</title><style>{NOTEBOOK_CSS}\
         body{{margin:24px;background:#fff}}.banner{{max-width:980px;margin:0 auto 16px;padding:10px 14px;\
         background:#ffebe9;border:1px solid #ffcecb;border-radius:6px;font-family:sans-serif}}</style>\n{banner}{}",
        rendered.html
    );
    match fs::write(output, page) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&format!("{output}: {e}")),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("render_file: {message}");
    ExitCode::FAILURE
}
