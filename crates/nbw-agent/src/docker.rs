//! The Docker executor: an execution whose spec names a runtime image runs its kernel in a
//! container of that image.
//!
//! The engine stays in the agent and talks to the kernel over IPC sockets in a folder mounted
//! into the container at `/nbw`: events, timeouts and lossless output work as for a local
//! kernel, nothing of nbw has to exist in the image (any libc, any distribution), and a run
//! with `network: none` still reaches its kernel. The bundle is mounted as the working
//! directory, so the image holds the environment and the bundle the code.
//!
//! Every container is labelled with its execution and its agent. When the kernel ends (it
//! exits, dies, or is killed for a timeout or a cancel) a watcher records how (out of memory
//! included) and removes the container before reporting the end, so a finished run leaves
//! nothing behind; an agent that was killed removes its leftovers when it starts again.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::Context;
use bollard::Docker;
use bollard::models::{ContainerCreateBody, DeviceRequest, HostConfig, ImageInspect, SystemInfo};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, CreateImageOptionsBuilder, KillContainerOptionsBuilder,
    ListContainersOptionsBuilder, LogsOptionsBuilder, RemoveContainerOptionsBuilder,
};
use futures::StreamExt;
use nbw_core::api::ContainerImage;
use nbw_core::container::{KERNEL_DIR, Volume, parse_memory};
use nbw_core::project::RuntimeEntry;
use nbw_engine::{
    ConnectionInfo, HostFuture, HostedKernel, HostedLaunch, KernelHost, KernelSignal, Kernelspec, OutputTail,
};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The label naming a container's execution.
pub const EXECUTION_LABEL: &str = "nbw.execution";
/// The label naming a container's agent.
pub const AGENT_LABEL: &str = "nbw.agent";

/// Where a container sees its pipeline run's shared volume (`NBW_SHARED`).
pub const SHARED_PATH: &str = "/nbw/shared";

/// The agent label of `nbw run --image` processes: this prefix and the process id.
const RUN_PREFIX: &str = "run-";

/// The kernel command when the runtime names none: ipykernel of the image's `python3`.
const DEFAULT_KERNEL: [&str; 5] = ["python3", "-m", "ipykernel_launcher", "-f", "{connection_file}"];

/// The Docker engine of an agent.
#[derive(Clone, Debug)]
pub struct DockerExecutor {
    api: Docker,
    agent: String,
}

impl DockerExecutor {
    /// Connects to the local engine (`DOCKER_HOST` honoured) for agent `agent`.
    pub async fn connect(agent: &str) -> anyhow::Result<DockerExecutor> {
        let api = nbw_runtime::connect().await?;
        Ok(DockerExecutor { api, agent: agent.to_owned() })
    }

    /// The engine's API, for builds.
    pub fn api(&self) -> &Docker {
        &self.api
    }

    /// The agent id its containers and volumes are labelled with.
    pub fn agent(&self) -> &str {
        &self.agent
    }

    /// Removes every container of this agent. At start nothing runs on it yet, so whatever is
    /// labelled with its id is left over from a crash.
    pub async fn sweep(&self) -> anyhow::Result<usize> {
        let filters = HashMap::from([("label".to_owned(), vec![format!("{AGENT_LABEL}={}", self.agent)])]);
        let options = ListContainersOptionsBuilder::default().all(true).filters(&filters).build();
        let leftovers = self.api.list_containers(Some(options)).await.context("listing containers")?;
        for container in &leftovers {
            if let Some(id) = &container.id {
                remove(&self.api, id).await;
            }
        }
        Ok(leftovers.len())
    }

    /// Whether the engine can give containers GPUs (see [`offers_gpu`]).
    pub async fn offers_gpu(&self) -> anyhow::Result<bool> {
        let info = self.api.info().await.context("asking the Docker engine what it offers")?;
        Ok(offers_gpu(&info))
    }

    /// The executor of one `nbw run --image` process, and a task removing the containers of
    /// earlier such runs that died without cleaning up (their process is gone).
    pub async fn for_run() -> anyhow::Result<(DockerExecutor, JoinHandle<()>)> {
        let docker = DockerExecutor::connect(&format!("{RUN_PREFIX}{}", std::process::id())).await?;
        let api = docker.api.clone();
        Ok((docker, tokio::spawn(remove_orphaned_runs(api))))
    }

    /// The kernel host of one execution's container.
    pub fn container(&self, execution: &str, settings: ContainerSettings) -> Arc<ContainerKernel> {
        Arc::new(ContainerKernel {
            api: self.api.clone(),
            agent: self.agent.clone(),
            name: format!("nbw-{execution}"),
            execution: execution.to_owned(),
            settings,
            watcher: Mutex::new(None),
        })
    }
}

/// How one execution's container is made.
#[derive(Debug, Clone)]
pub struct ContainerSettings {
    /// The runtime image.
    pub image: ContainerImage,
    /// The runtime's settings from the bundle's `nbw.yaml` (volumes, limits, network, user).
    pub runtime: RuntimeEntry,
    /// The workflow's own volumes.
    pub volumes: Vec<Volume>,
    /// The unpacked bundle, mounted as the working directory.
    pub workdir: PathBuf,
    /// The notebook's language.
    pub language: String,
    /// The pipeline run's shared volume (a Docker volume name), mounted at
    /// [`SHARED_PATH`].
    pub shared: Option<String>,
    /// Whether the container gets the machine's GPUs: the runtime's `gpu`, or the run's GPU
    /// label (a workflow's `gpu: true`).
    pub gpu: bool,
}

impl ContainerSettings {
    /// The settings of runtime `image.runtime` as the bundle in `workdir` defines it.
    pub fn from_bundle(
        image: ContainerImage,
        workdir: &Path,
        volumes: &[String],
        language: &str,
    ) -> anyhow::Result<ContainerSettings> {
        let file = workdir.join(nbw_core::project::FILE_NAME);
        let text = std::fs::read_to_string(&file).with_context(|| {
            format!("this execution runs in runtime {:?}, but its bundle has no nbw.yaml", image.runtime)
        })?;
        let project = nbw_core::project::parse(&text, Path::new(nbw_core::project::FILE_NAME), None)?;
        let runtime = project.runtimes.get(&image.runtime).cloned().with_context(|| {
            format!("the bundle's nbw.yaml defines no runtime {:?}; add it under `runtimes`", image.runtime)
        })?;
        let volumes =
            volumes.iter().map(|v| Volume::parse(v).map_err(anyhow::Error::msg)).collect::<Result<_, _>>()?;
        Ok(ContainerSettings {
            image,
            gpu: runtime.gpu,
            runtime,
            volumes,
            workdir: workdir.to_path_buf(),
            language: language.to_owned(),
            shared: None,
        })
    }

    /// Settings for an image outside any project (`nbw run --image`): no limits, the
    /// default kernel command, `workdir` mounted at `/app`.
    pub fn for_image(image: &str, workdir: &Path, language: &str) -> ContainerSettings {
        ContainerSettings {
            image: ContainerImage {
                runtime: String::new(),
                version: String::new(),
                image: image.to_owned(),
                image_id: None,
            },
            runtime: RuntimeEntry { image: image.to_owned(), ..RuntimeEntry::default() },
            volumes: Vec::new(),
            workdir: workdir.to_path_buf(),
            language: language.to_owned(),
            shared: None,
            gpu: false,
        }
    }

    /// The working directory as the kernel in the container sees it.
    pub fn workdir_in_container(&self) -> String {
        self.runtime.workdir.clone().unwrap_or_else(|| "/app".to_owned())
    }

    fn kernel_argv(&self) -> Vec<String> {
        if self.runtime.kernel.is_empty() {
            DEFAULT_KERNEL.iter().map(ToString::to_string).collect()
        } else {
            self.runtime.kernel.clone()
        }
    }
}

/// The host side of a run's container: its mounts (`kernel_dir`, the folder of the kernel's
/// sockets, at [`KERNEL_DIR`]), limits, network, and GPUs when the run needs them.
fn host_config(settings: &ContainerSettings, kernel_dir: &Path) -> HostConfig {
    let runtime = &settings.runtime;
    let workdir = settings.workdir_in_container();
    let mut binds = vec![
        format!("{}:{KERNEL_DIR}", kernel_dir.display()),
        format!("{}:{workdir}", settings.workdir.display()),
    ];
    let volumes = runtime.volumes.iter().filter_map(|v| Volume::parse(v).ok());
    binds.extend(volumes.chain(settings.volumes.iter().cloned()).map(|v| v.to_string()));
    binds.extend(settings.shared.iter().map(|name| format!("{name}:{SHARED_PATH}")));
    let memory = runtime.memory.as_deref().and_then(|m| parse_memory(m).ok()).map(|m| m as i64);
    HostConfig {
        binds: Some(binds),
        // An init process forwards the interrupt to the kernel and reaps what cells start.
        init: Some(true),
        memory,
        // No swap: a run over its limit is stopped, not slowed to a crawl.
        memory_swap: memory,
        nano_cpus: runtime.cpus.map(|c| (c * 1e9) as i64),
        network_mode: runtime.network.clone(),
        device_requests: settings.gpu.then(|| vec![all_gpus()]),
        ..Default::default()
    }
}

/// Whether an engine offers GPUs: it has a runtime of the NVIDIA container toolkit
/// (`nvidia`, the key `nvidia-ctk runtime configure` writes; any runtime whose name contains
/// `nvidia`), or it discovered a CDI device that is a GPU (`nvidia.com/gpu=0`,
/// `amd.com/gpu=all`). An engine with neither would refuse a GPU device request, so its agent
/// must not claim GPU runs.
pub fn offers_gpu(info: &SystemInfo) -> bool {
    let runtime =
        info.runtimes.iter().flatten().any(|(name, _)| name.to_ascii_lowercase().contains("nvidia"));
    let device = info.discovered_devices.iter().flatten().filter_map(|d| d.id.as_deref()).any(|id| {
        let kind = id.split('=').next().unwrap_or(id);
        kind.ends_with("/gpu")
    });
    runtime || device
}

/// What `docker run --gpus all` asks for: every GPU, through whichever driver offers the
/// `gpu` capability (the NVIDIA container toolkit registers it).
fn all_gpus() -> DeviceRequest {
    DeviceRequest { count: Some(-1), capabilities: Some(vec![vec!["gpu".to_owned()]]), ..Default::default() }
}

/// The container of one execution, as the engine's kernel host.
#[derive(Debug)]
pub struct ContainerKernel {
    api: Docker,
    agent: String,
    name: String,
    execution: String,
    settings: ContainerSettings,
    watcher: Mutex<Option<JoinHandle<()>>>,
}

impl ContainerKernel {
    /// How the container is made.
    pub fn settings(&self) -> &ContainerSettings {
        &self.settings
    }

    /// Resolves once the container is removed (at once if it was never created).
    pub async fn removed(&self) {
        let watcher = self.watcher.lock().expect("watcher lock").take();
        if let Some(watcher) = watcher {
            let _ = watcher.await;
        }
    }

    async fn start_container(&self, launch: HostedLaunch<'_>) -> Result<HostedKernel, String> {
        let image = self.image().await?;
        let access = self.access(&image)?;
        access
            .prepare(launch.dir, &self.settings.workdir)
            .map_err(|e| format!("preparing the run's folders: {e}"))?;
        let connection_file = container_connection_file(launch.dir, launch.connection)
            .map_err(|e| format!("writing the container's connection file: {e}"))?;
        let argv = nbw_engine::kernel_command(&self.settings.kernel_argv(), &connection_file);
        let body = self.create_body(&launch, access.wrap(argv), image_python_path(&image));
        let options = CreateContainerOptionsBuilder::default().name(&self.name).build();
        self.api.create_container(Some(options), body).await.map_err(|e| {
            format!("cannot create the container of image {}: {e}", self.settings.image.image)
        })?;
        if let Err(e) = self.api.start_container(&self.name, None).await {
            remove(&self.api, &self.name).await;
            return Err(format!("cannot start the container of image {}: {e}", self.settings.image.image));
        }
        tracing::debug!(container = %self.name, image = %self.settings.image.image, "kernel container started");
        tokio::spawn(follow_logs(self.api.clone(), self.name.clone(), launch.tail));
        let (tx, exit) = watch::channel(None);
        let memory = self.settings.runtime.memory.clone();
        let watcher = tokio::spawn(watch_container(self.api.clone(), self.name.clone(), memory, tx));
        *self.watcher.lock().expect("watcher lock") = Some(watcher);
        let (api, name) = (self.api.clone(), self.name.clone());
        Ok(HostedKernel { signal: Box::new(move |signal| send_signal(&api, &name, signal)), exit })
    }

    /// The container; `image_python_path` (the image's own `PYTHONPATH`) is kept after the
    /// run's, which would otherwise replace it.
    fn create_body(
        &self,
        launch: &HostedLaunch<'_>,
        cmd: Vec<String>,
        image_python_path: Option<String>,
    ) -> ContainerCreateBody {
        let settings = &self.settings;
        let runtime = &settings.runtime;
        let workdir = settings.workdir_in_container();
        let labels = HashMap::from([
            (EXECUTION_LABEL.to_owned(), self.execution.clone()),
            (AGENT_LABEL.to_owned(), self.agent.clone()),
        ]);
        ContainerCreateBody {
            image: Some(settings.image.image.clone()),
            cmd: Some(cmd),
            env: Some(
                launch
                    .env
                    .iter()
                    .map(|(k, v)| match (k.as_str(), &image_python_path) {
                        ("PYTHONPATH", Some(image)) => format!("{k}={v}:{image}"),
                        _ => format!("{k}={v}"),
                    })
                    .collect(),
            ),
            labels: Some(labels),
            working_dir: Some(workdir),
            user: runtime.user.as_ref().and_then(|u| u.uid).map(|uid| {
                let gid = runtime.user.as_ref().and_then(|u| u.gid).unwrap_or(uid);
                format!("{uid}:{gid}")
            }),
            host_config: Some(host_config(settings, launch.dir)),
            ..Default::default()
        }
    }

    /// Who the kernel runs as, and so how it gets at the socket folder and the working directory.
    fn access(&self, image: &ImageInspect) -> Result<Access, String> {
        let declared =
            self.settings.runtime.user.as_ref().and_then(|u| u.uid.map(|uid| (uid, u.gid.unwrap_or(uid))));
        if let (Some(wanted), Some(found)) = (&self.settings.image.image_id, &image.id)
            && wanted != found
        {
            return Err(format!(
                "runtime image {} on this agent is {found}, but version {} was built as {wanted}: rebuild it (`nbw runtime build {}`) so runs use the recorded image",
                self.settings.image.image, self.settings.image.version, self.settings.image.runtime
            ));
        }
        let image_user = image.config.as_ref().and_then(|c| c.user.clone()).unwrap_or_default();
        Ok(Access::decide(declared, &image_user, nix::unistd::geteuid().is_root()))
    }

    /// The runtime image, pulled first when it is not here and its reference names a registry.
    async fn image(&self) -> Result<ImageInspect, String> {
        let reference = &self.settings.image.image;
        if let Ok(image) = self.api.inspect_image(reference).await {
            return Ok(image);
        }
        if !names_registry(reference) {
            return Err(format!(
                "runtime image {reference} is not on this agent: build it here (`nbw runtime build`) or have the building agent push it to a registry (`nbw agent --registry`)"
            ));
        }
        let options = CreateImageOptionsBuilder::default().from_image(reference).build();
        let mut pull = self.api.create_image(Some(options), None, None);
        while let Some(progress) = pull.next().await {
            progress.map_err(|e| format!("cannot pull runtime image {reference}: {e}"))?;
        }
        self.api.inspect_image(reference).await.map_err(|e| format!("runtime image {reference}: {e}"))
    }
}

impl KernelHost for ContainerKernel {
    fn kernelspec(&self, name: &str) -> Kernelspec {
        Kernelspec::hosted(name, &self.settings.language, self.settings.kernel_argv())
    }

    fn start<'a>(&'a self, launch: HostedLaunch<'a>) -> HostFuture<'a, Result<HostedKernel, String>> {
        Box::pin(self.start_container(launch))
    }
}

/// How the kernel in the container may use the folders the agent made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    /// The agent is root and the container's user is known: the folders are handed to it.
    Owner(u32, u32),
    /// The container runs as root and so does the agent: nothing to do.
    Root,
    /// Otherwise the socket folder is writable by all but not listable, the working directory
    /// writable by all, and the kernel's sockets open to all (only holders of the connection
    /// file's key can talk to the kernel).
    Shared,
}

impl Access {
    fn decide(declared: Option<(u32, u32)>, image_user: &str, agent_is_root: bool) -> Access {
        let image_owner = || {
            let mut parts = image_user.splitn(2, ':');
            let uid = parts.next()?.parse::<u32>().ok()?;
            let gid = parts.next().map_or(Some(uid), |g| g.parse().ok())?;
            Some((uid, gid))
        };
        let owner = declared.or_else(image_owner);
        match (agent_is_root, owner) {
            (true, Some((0, _))) => Access::Root,
            (true, Some((uid, gid))) => Access::Owner(uid, gid),
            (true, None) if image_user.is_empty() || image_user == "root" => Access::Root,
            _ => Access::Shared,
        }
    }

    fn prepare(self, sockets: &Path, workdir: &Path) -> std::io::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        match self {
            Access::Root => Ok(()),
            Access::Owner(uid, gid) => {
                for path in std::iter::once(sockets.to_path_buf()).chain(walk(workdir)?) {
                    std::os::unix::fs::lchown(&path, Some(uid), Some(gid))?;
                }
                Ok(())
            }
            Access::Shared => {
                std::fs::set_permissions(sockets, std::fs::Permissions::from_mode(0o733))?;
                for path in walk(workdir)? {
                    let mode = if path.is_dir() { 0o777 } else { 0o666 };
                    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))?;
                }
                Ok(())
            }
        }
    }

    /// The kernel command; for shared access, run with a umask that lets the agent connect.
    fn wrap(self, argv: Vec<String>) -> Vec<String> {
        if self != Access::Shared {
            return argv;
        }
        let mut wrapped =
            vec!["sh".to_owned(), "-c".to_owned(), "umask 0 && exec \"$@\"".to_owned(), "kernel".to_owned()];
        wrapped.extend(argv);
        wrapped
    }
}

/// The `PYTHONPATH` an image's `ENV` sets, if any.
fn image_python_path(image: &ImageInspect) -> Option<String> {
    let env = image.config.as_ref()?.env.as_ref()?;
    env.iter().find_map(|e| e.strip_prefix("PYTHONPATH=")).filter(|p| !p.is_empty()).map(str::to_owned)
}

/// Whether an image reference starts with a registry host (`host.name/...`, `host:port/...`,
/// `localhost/...`), as Docker decides it.
fn names_registry(reference: &str) -> bool {
    reference.split_once('/').is_some_and(|(first, _)| first.contains(['.', ':']) || first == "localhost")
}

/// `dir` and everything under it (links not followed).
fn walk(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut paths = vec![dir.to_path_buf()];
    let mut index = 0;
    while index < paths.len() {
        let path = paths[index].clone();
        if std::fs::symlink_metadata(&path)?.is_dir() {
            for entry in std::fs::read_dir(&path)? {
                paths.push(entry?.path());
            }
        }
        index += 1;
    }
    Ok(paths)
}

/// Writes the connection file the kernel reads, with the socket paths it sees, under a random
/// name (the folder is not listable when shared); returns its path in the container.
fn container_connection_file(dir: &Path, connection: &ConnectionInfo) -> std::io::Result<String> {
    let mut inside = connection.clone();
    let base =
        Path::new(&connection.ip).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    inside.ip = format!("{KERNEL_DIR}/{base}");
    let name = format!("{}.json", nbw_core::ids::random_id());
    std::fs::write(dir.join(&name), serde_json::to_vec(&inside).expect("connection info serializes"))?;
    Ok(format!("{KERNEL_DIR}/{name}"))
}

fn send_signal(api: &Docker, name: &str, signal: KernelSignal) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
    let (api, name) = (api.clone(), name.to_owned());
    let signal = match signal {
        KernelSignal::Interrupt => "SIGINT",
        KernelSignal::Kill => "SIGKILL",
    };
    runtime.spawn(async move {
        let options = KillContainerOptionsBuilder::default().signal(signal).build();
        if let Err(e) = api.kill_container(&name, Some(options)).await {
            tracing::debug!(container = %name, signal, error = %e, "signal not delivered (the container may be gone)");
        }
    });
}

/// Waits for the container to stop, says how it ended, removes it, and only then reports the
/// end: whoever waits for the kernel waits for the container to be gone.
async fn watch_container(
    api: Docker,
    name: String,
    memory: Option<String>,
    exit: watch::Sender<Option<String>>,
) {
    let mut wait = api.wait_container(&name, None::<bollard::query_parameters::WaitContainerOptions>);
    let _ = wait.next().await;
    let how = match api.inspect_container(&name, None).await {
        Ok(container) => describe_end(container.state, memory.as_deref()),
        Err(e) => format!("the container vanished ({e})"),
    };
    remove(&api, &name).await;
    tracing::debug!(container = %name, how = %how, "kernel container removed");
    let _ = exit.send(Some(how));
}

fn describe_end(state: Option<bollard::models::ContainerState>, memory: Option<&str>) -> String {
    let state = state.unwrap_or_default();
    let code = state.exit_code.unwrap_or(-1);
    if state.oom_killed == Some(true) {
        let limit = memory.map(|m| format!(" of {m}")).unwrap_or_default();
        return format!(
            "out of memory: the container went over its memory limit{limit} and was killed (exit code {code})"
        );
    }
    match state.error.filter(|e| !e.is_empty()) {
        Some(error) => format!("exit code {code}: {error}"),
        None => format!("exit code {code}"),
    }
}

/// Removes the containers of `nbw run --image` processes of this machine that are gone (killed
/// before they could remove their container).
async fn remove_orphaned_runs(api: Docker) {
    let filters = HashMap::from([("label".to_owned(), vec![AGENT_LABEL.to_owned()])]);
    let options = ListContainersOptionsBuilder::default().all(true).filters(&filters).build();
    let Ok(containers) = api.list_containers(Some(options)).await else { return };
    for container in containers {
        let owner = container.labels.as_ref().and_then(|l| l.get(AGENT_LABEL));
        let pid = owner.and_then(|o| o.strip_prefix(RUN_PREFIX)).and_then(|p| p.parse::<u32>().ok());
        if let (Some(pid), Some(id)) = (pid, &container.id)
            && !Path::new(&format!("/proc/{pid}")).exists()
        {
            remove(&api, id).await;
        }
    }
}

/// Removes a container and its anonymous volumes, whatever its state; named volumes stay.
async fn remove(api: &Docker, name: &str) {
    let options = RemoveContainerOptionsBuilder::default().force(true).v(true).build();
    if let Err(e) = api.remove_container(name, Some(options)).await {
        tracing::debug!(container = %name, error = %e, "container not removed (already gone?)");
    }
}

async fn follow_logs(api: Docker, name: String, tail: OutputTail) {
    let options = LogsOptionsBuilder::default().follow(true).stdout(true).stderr(true).build();
    let mut logs = api.logs(&name, Some(options));
    while let Some(Ok(chunk)) = logs.next().await {
        for line in String::from_utf8_lossy(&chunk.into_bytes()).lines() {
            tail.push(line.to_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn who_the_kernel_runs_as() {
        assert_eq!(Access::decide(Some((1000, 1000)), "", true), Access::Owner(1000, 1000));
        assert_eq!(Access::decide(None, "", true), Access::Root);
        assert_eq!(Access::decide(None, "root", true), Access::Root);
        assert_eq!(Access::decide(None, "1000:100", true), Access::Owner(1000, 100));
        assert_eq!(Access::decide(None, "jovyan", true), Access::Shared);
        assert_eq!(Access::decide(Some((1000, 1000)), "", false), Access::Shared);
        assert_eq!(Access::decide(None, "", false), Access::Shared);
    }

    #[test]
    fn shared_access_opens_the_sockets() {
        let argv = vec!["python3".to_owned()];
        assert_eq!(Access::Root.wrap(argv.clone()), argv);
        assert_eq!(Access::Shared.wrap(argv)[..3], ["sh", "-c", "umask 0 && exec \"$@\""]);
    }

    #[test]
    fn registries_are_told_from_repositories() {
        assert!(names_registry("registry.example.com/nbw/p/rt:v1"));
        assert!(names_registry("127.0.0.1:5000/nbw/p/rt:v1"));
        assert!(names_registry("localhost/nbw/p/rt:v1"));
        assert!(!names_registry("nbw/p/rt:v1"));
        assert!(!names_registry("python:3.12"));
    }

    fn settings(gpu: bool) -> ContainerSettings {
        let mut settings = ContainerSettings::for_image("python:3.12-slim", Path::new("/work/run"), "python");
        settings.gpu = gpu;
        settings
    }

    #[test]
    fn a_gpu_run_asks_docker_for_every_gpu() {
        let config = host_config(&settings(true), Path::new("/tmp/k"));
        let requests = config.device_requests.as_deref().expect("a device request");
        assert_eq!(requests.len(), 1);
        assert_eq!(requests[0].count, Some(-1));
        assert_eq!(requests[0].capabilities, Some(vec![vec!["gpu".to_owned()]]));
        assert_eq!((&requests[0].driver, &requests[0].device_ids), (&None, &None));
        // As the Docker API receives it.
        let body = serde_json::to_value(&config).unwrap();
        assert_eq!(body["DeviceRequests"], serde_json::json!([{"Count": -1, "Capabilities": [["gpu"]]}]));
        assert_eq!(body["Binds"], serde_json::json!(["/tmp/k:/nbw", "/work/run:/app"]));
    }

    #[test]
    fn a_run_without_gpu_asks_for_no_device() {
        let config = host_config(&settings(false), Path::new("/tmp/k"));
        assert!(config.device_requests.is_none());
        assert!(serde_json::to_value(&config).unwrap().get("DeviceRequests").is_none());
    }

    #[test]
    fn gpus_are_offered_by_an_nvidia_runtime_or_a_cdi_gpu() {
        use bollard::models::{DeviceInfo, Runtime};
        let runtimes = |names: &[&str]| {
            Some(names.iter().map(|n| ((*n).to_owned(), Runtime::default())).collect::<HashMap<_, _>>())
        };
        let plain =
            SystemInfo { runtimes: runtimes(&["runc", "io.containerd.runc.v2"]), ..Default::default() };
        assert!(!offers_gpu(&plain));
        assert!(!offers_gpu(&SystemInfo::default()));
        assert!(offers_gpu(&SystemInfo { runtimes: runtimes(&["runc", "nvidia"]), ..Default::default() }));
        let device = |id: &str| SystemInfo {
            discovered_devices: Some(vec![DeviceInfo { source: Some("cdi".into()), id: Some(id.into()) }]),
            ..plain.clone()
        };
        assert!(offers_gpu(&device("nvidia.com/gpu=0")));
        assert!(offers_gpu(&device("amd.com/gpu=all")));
        assert!(!offers_gpu(&device("vendor.com/fpga=0")));
    }

    #[test]
    fn an_out_of_memory_end_says_so() {
        let state = bollard::models::ContainerState {
            oom_killed: Some(true),
            exit_code: Some(137),
            ..Default::default()
        };
        let how = describe_end(Some(state), Some("64m"));
        assert!(how.contains("out of memory") && how.contains("64m"), "{how}");
    }
}
