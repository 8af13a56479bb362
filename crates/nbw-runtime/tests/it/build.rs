//! Runtime images built by the real Docker engine from the test base image (Debian bookworm
//! with python3 and ipykernel from apt), then run to see what is inside.

use std::time::Instant;

use nbw_core::api::BuiltImage;
use nbw_core::image::runtime_image_tag;
use nbw_runtime::RuntimeError;
use nbw_testkit::{LabelledImages, docker_base_image, docker_or_skip, docker_run};

/// A build of runtime `default` of a project of its own, and what it logged, when.
struct Build {
    project: String,
    tag: String,
    dockerfile_hash: String,
    result: Result<BuiltImage, RuntimeError>,
    log: Vec<(Instant, String)>,
    finished: Instant,
    // Last, so the images go after everything else is dropped.
    _images: LabelledImages,
}

impl Build {
    fn image(&self) -> &BuiltImage {
        self.result.as_ref().unwrap_or_else(|e| panic!("the build failed: {e}"))
    }
}

/// Builds runtime `default` (its nbw.yaml lines given) of a new project holding `files`;
/// `None` when there is no engine and the test may skip. The project's name is unique, and
/// every image the build leaves is labelled with it, so all of them are removed afterwards.
async fn build(runtime_yaml: &str, files: &[(&str, &str)]) -> Option<Build> {
    if !docker_or_skip() {
        return None;
    }
    let base = docker_base_image();
    let project = format!("t{}", nbw_testkit::unique_suffix());
    let images = LabelledImages::new(format!("nbw.project={project}"));
    let dir = nbw_testkit::tempdir();
    let yaml = format!("project: {project}\nruntimes:\n  default:\n    image: {base}\n{runtime_yaml}");
    std::fs::write(dir.path().join("nbw.yaml"), yaml).unwrap();
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text.replace("{project}", &project)).unwrap();
    }
    let loaded = nbw_core::project::load(&dir.path().join("nbw.yaml")).unwrap_or_else(|e| panic!("{e}"));
    let dockerfile = nbw_runtime::dockerfile(dir.path(), &loaded.spec, "default").unwrap();
    let tag = runtime_image_tag(&project, "default", "test");
    let docker = nbw_runtime::connect().await.unwrap();
    let mut log = Vec::new();
    let started = Instant::now();
    let result = nbw_runtime::build(&docker, dir.path(), &dockerfile, &tag, &mut |line: &str| {
        log.push((Instant::now(), line.to_owned()));
    })
    .await;
    let finished = Instant::now();
    eprintln!("built {tag} in {:.1}s", (finished - started).as_secs_f64());
    Some(Build { project, tag, dockerfile_hash: dockerfile.hash, result, log, finished, _images: images })
}

fn python(tag: &str, code: &str) -> String {
    let (ok, output) = docker_run(tag, &["python3", "-c", code]);
    assert!(ok, "python3 -c {code:?} in {tag} failed:\n{output}");
    output
}

#[tokio::test]
async fn an_apt_package_the_base_lacks_is_installed_and_the_log_streams() {
    let base_has_yaml = || docker_run(nbw_testkit::DOCKER_BASE_IMAGE, &["python3", "-c", "import yaml"]).0;
    let runtime = "    apt_packages: [python3-yaml]\n    run: ['echo streamed-$((6*7))', 'sleep 2']\n";
    let Some(build) = build(runtime, &[]).await else { return };
    assert!(!base_has_yaml(), "the base image has python3-yaml already: this test proves nothing");
    let image = build.image();
    assert_eq!(image.image, build.tag);
    assert!(image.image_id.starts_with("sha256:"), "{image:?}");
    assert_eq!(image.dockerfile_hash, build.dockerfile_hash);
    assert_eq!(python(&build.tag, "import yaml; print(yaml.safe_load('a: [1]'))").trim(), "{'a': [1]}");
    // Lines arrive while the build runs: the echo's, two seconds of `sleep` before the end.
    let (at, _) =
        build.log.iter().find(|(_, l)| l == "streamed-42").expect("the RUN step's output is logged");
    assert!((build.finished - *at).as_secs_f64() > 1.5, "the log came at the end, not as it was written");
    assert!(build.log.iter().any(|(_, l)| l.starts_with("Step 1/")), "{:?}", build.log);
    // The image says which Dockerfile it was built from.
    let inspect = std::process::Command::new("docker")
        .args([
            "image",
            "inspect",
            "--format",
            "{{index .Config.Labels \"nbw.dockerfile-hash\"}} {{index .Config.Labels \"nbw.project\"}}",
            &build.tag,
        ])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&inspect.stdout).trim(),
        format!("{} {}", build.dockerfile_hash, build.project)
    );
}

#[tokio::test]
async fn a_failing_run_step_fails_the_build_with_its_output() {
    let runtime = "    run: ['echo preparing && echo \"the data folder is missing\" >&2 && exit 3']\n";
    let Some(build) = build(runtime, &[]).await else { return };
    let message = match &build.result {
        Err(e @ RuntimeError::BuildFailed { .. }) => e.to_string(),
        other => panic!("expected a failed build, got {other:?}"),
    };
    assert!(message.starts_with(&format!("building {} failed: ", build.tag)), "{message}");
    assert!(message.contains("returned a non-zero code: 3"), "{message}");
    assert!(message.contains("preparing") && message.contains("the data folder is missing"), "{message}");
    // No container of the failed step is left behind.
    let containers = std::process::Command::new("docker")
        .args(["ps", "-a", "-q", "--filter", &format!("label=nbw.project={}", build.project)])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&containers.stdout).trim(), "");
}

#[tokio::test]
async fn env_values_arrive_unchanged() {
    let runtime = "    env:\n      GREETING: 'say \"hi\" to $USER and ${HOME} \\ \\n ''single'' `id` #'\n\
                   \x20     SPACES: '  two  spaces  '\n      EMPTY: ''\n";
    let Some(build) = build(runtime, &[]).await else { return };
    build.image();
    let output = python(
        &build.tag,
        "import json, os; print(json.dumps([os.environ[k] for k in ('GREETING', 'SPACES', 'EMPTY')]))",
    );
    let values: Vec<String> = serde_json::from_str(output.trim()).unwrap();
    assert_eq!(values, [r#"say "hi" to $USER and ${HOME} \ \n 'single' `id` #"#, "  two  spaces  ", ""]);
}

#[tokio::test]
async fn requirements_install_in_a_build_stage_and_the_image_runs_as_its_user() {
    // ipykernel is in the base already, so pip is satisfied without reaching PyPI; pip itself
    // comes from the build stage only.
    let runtime = "    build_packages: [python3-pip]\n    user: {uid: 1234}\n";
    let Some(build) = build(runtime, &[("requirements.txt", "ipykernel\n")]).await else { return };
    build.image();
    let output = python(
        &build.tag,
        "import os, sys, importlib.util as u; print(sys.prefix, os.getuid(), os.getgid(), os.getcwd(), \
         os.access('.', os.W_OK), u.find_spec('pip') is None)",
    );
    assert_eq!(output.trim(), "/opt/nbw/venv 1234 1234 /app True True");
}

#[tokio::test]
async fn a_users_own_dockerfile_is_built_with_the_project_files() {
    let own = "FROM nbw-test/python:latest\nLABEL nbw.project={project}\nCOPY . /context/\n";
    let files = [
        ("Dockerfile.default", own),
        ("data/kept.txt", "kept"),
        ("data/scratch.tmp", "ignored"),
        (".nbwignore", "*.tmp\n"),
        ("local.nbvars", "TOKEN=secret\n"),
    ];
    let Some(build) = build("", &files).await else { return };
    build.image();
    let (ok, listing) = docker_run(&build.tag, &["sh", "-c", "cd /context && find . -type f | sort"]);
    assert!(ok, "{listing}");
    // The bundle's files (ignored ones and local.nbvars left out) and the Dockerfile as sent.
    assert_eq!(
        listing,
        "./.nbw/Dockerfile\n./.nbwignore\n./Dockerfile.default\n./data/kept.txt\n./nbw.yaml\n"
    );
}
