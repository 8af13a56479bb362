//! `nbw inspect`: what a notebook's parameters cell declares, papermill's `--help-notebook`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use nbw_engine::{Notebook, PARAMETERS_TAG, inspect_parameters, source};

use crate::exit;

/// Show a notebook's parameters: names, inferred types, defaults and their comments.
#[derive(Args, Debug)]
#[command(after_help = "Examples:
  nbw inspect report.ipynb
  nbw inspect report.ipynb -o json")]
pub struct InspectArgs {
    /// The notebook.
    notebook: PathBuf,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Format::Table)]
    format: Format,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum Format {
    Table,
    Json,
}

pub fn main(args: InspectArgs) -> i32 {
    let notebook = match Notebook::read(&args.notebook) {
        Ok(notebook) => notebook,
        Err(e) => {
            return exit::bad_input(format!("{} is not a usable notebook: {e}", args.notebook.display()));
        }
    };
    let language = notebook.language().unwrap_or("python").to_owned();
    let cell = notebook.find_tagged(PARAMETERS_TAG).map(|i| &notebook.cells()[i]);
    let specs = match cell.map(|c| inspect_parameters(&language, source(c))).transpose() {
        Ok(specs) => specs.unwrap_or_default(),
        Err(e) => return exit::bad_input(e),
    };
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&specs).expect("specs serialize")),
        Format::Table if cell.is_none() => {
            println!(
                "{} has no cell tagged \"parameters\": nbw run -p would inject at the top.",
                args.notebook.display()
            );
        }
        Format::Table => {
            let mut table = Table::new();
            table.load_preset(UTF8_FULL_CONDENSED).set_header(["name", "type", "default", "help"]);
            for spec in &specs {
                table.add_row([&spec.name, &spec.type_name, &spec.default, &spec.help]);
            }
            println!("Parameters of {}:\n{table}", args.notebook.display());
        }
    }
    exit::OK
}
