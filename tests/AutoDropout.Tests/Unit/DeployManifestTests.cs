using AutoDropout.Tests.Support;

namespace AutoDropout.Tests.Unit;

/// <summary>
/// The images, the compose file and the Kubernetes manifests under deploy/ agree with the code (no container engine
/// or cluster runs them here): see <see cref="DeployChecks"/>. Each checker is also shown a bad manifest.
/// </summary>
public sealed class DeployManifestTests : IDisposable
{
    private static readonly string Root = DeployChecks.RepositoryRoot;
    private static string Deploy(params string[] parts) => Path.Combine([Root, "deploy", .. parts]);
    private readonly string _work = Directory.CreateTempSubdirectory("autodropout-deploy-").FullName;

    [Theory]
    [InlineData("seed.Dockerfile")]
    [InlineData("node.Dockerfile")]
    [InlineData("node-cuda.Dockerfile")]
    public void A_Dockerfile_builds_from_the_repository_and_runs_a_node(string name)
    {
        var text = File.ReadAllText(Deploy("docker", name));
        Assert.Empty(DeployChecks.CheckDockerfile(text, name, Root));
    }

    [Fact]
    public void The_images_are_the_seed_without_torch_and_the_nodes_on_cpu_and_cuda()
    {
        static Dockerfile Read(string name) => Dockerfile.Parse(File.ReadAllText(Deploy("docker", name)));
        var seed = Read("seed.Dockerfile");
        Assert.Contains(seed.Stages[0].All("RUN"), r => r.Arguments.Contains("publish src/Cluster.Seed/Cluster.Seed.csproj", StringComparison.Ordinal));
        Assert.DoesNotContain(seed.Stages[0].All("COPY"), c => c.Arguments.Contains("Training", StringComparison.Ordinal));

        var cpu = Read("node.Dockerfile");
        Assert.Contains(cpu.Stages[0].All("RUN"), r => r.Arguments.Contains("-p:TorchBackend=cpu", StringComparison.Ordinal));
        var cuda = Read("node-cuda.Dockerfile");
        Assert.Contains(cuda.Stages[0].All("RUN"), r => r.Arguments.Contains("publish", StringComparison.Ordinal) && r.Arguments.Contains("-p:TorchBackend=cuda", StringComparison.Ordinal));
        Assert.Contains(cuda.GlobalArgs, a => a.Arguments.StartsWith("CUDA_IMAGE=nvidia/cuda:", StringComparison.Ordinal) && a.Arguments.Contains("runtime", StringComparison.Ordinal));
        Assert.Equal("${CUDA_IMAGE}", cuda.Runtime.Image);
    }

    [Fact]
    public void The_Dockerfile_check_finds_a_bad_image()
    {
        const string bad = """
            FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
            COPY src/No.Such/No.Such.csproj src/No.Such/
            COPY src/Cluster.Seed/Cluster.Seed.csproj src/Cluster.Seed/
            # the seed needs Cluster.Common and more, which are not copied before the restore
            RUN dotnet restore src/Cluster.Seed/Cluster.Seed.csproj
            COPY tests/ tests/
            RUN dotnet publish src/Cluster.Seed/Cluster.Seed.csproj -o /app
            FROM mcr.microsoft.com/dotnet/aspnet:10.0
            ENV AUTODROPOUT_NO_SUCH=1 AUTODROPOUT_CMD_PORT=9110
            COPY --from=build /app /app
            USER root
            EXPOSE 4053 1234
            HEALTHCHECK CMD wget -q http://127.0.0.1:9999/v1/health
            ENTRYPOINT ["dotnet", "/app/autodropout-seed.dll", "--no-such-flag"]
            """;
        var problems = DeployChecks.CheckDockerfile(bad, "bad", Root);

        Assert.Contains(problems, p => p.Contains("COPY src/No.Such/No.Such.csproj: no such file", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("needs src/Cluster.Common/Cluster.Common.csproj", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("COPY tests/: .dockerignore leaves it out", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("AUTODROPOUT_NO_SUCH is not a variable", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("runs as root", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("EXPOSE 1234", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("command port 9110 is not exposed", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("runs wget, which the runtime stage does not install", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("asks port 9999", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("--no-such-flag", StringComparison.Ordinal));
    }

    [Fact]
    public void Every_reference_in_the_compose_file_resolves()
    {
        var text = File.ReadAllText(Deploy("compose", "compose.yaml"));
        Assert.Empty(DeployChecks.CheckCompose(text, Deploy("compose")));

        var services = DeployChecks.LoadYaml(text)[0].RootNode.Get("services").Entries().ToDictionary(e => e.Key, e => e.Value);
        var controllers = services.Where(s => s.Value.Get("command").Strings() is ["node", "controller", ..]).ToList();
        Assert.Equal(2, controllers.Count);
        Assert.All(controllers, c => Assert.Contains("postgres", c.Value.Get("depends_on").Entries().Select(e => e.Key)));
        var trainers = services.Where(s => s.Value.Get("command").Strings() is ["node", "trainer", ..]).ToList();
        Assert.Equal(2, trainers.Count);
        Assert.All(trainers, t => Assert.Equal("nvidia", t.Value.Get("deploy").Get("resources").Get("reservations").Get("devices").Items().Single().Get("driver").Text()));
        Assert.Contains("journal:", services["postgres"].Get("volumes").Strings()[0], StringComparison.Ordinal);
        Assert.All(services.Values.Where(s => s.Get("image").Text()!.StartsWith("autodropout", StringComparison.Ordinal)),
            s => Assert.Superset(new HashSet<string> { "cluster_pfx", "token" }, s.Get("secrets").Strings().ToHashSet()));
    }

    [Fact]
    public void The_compose_check_finds_a_bad_file()
    {
        const string bad = """
            services:
              node:
                build:
                  context: ../..
                  dockerfile: deploy/docker/no-such.Dockerfile
                image: autodropout-other
              trainer:
                build:
                  context: ../..
                  dockerfile: deploy/docker/node.Dockerfile
                image: autodropout-node:cpu
                command: ["node", "trainer", "--no-such-flag"]
                environment:
                  AUTODROPOUT_NO_SUCH: "1"
                  AUTODROPOUT_TLS_CERT: /run/secrets/cert
                secrets: [cert]
                volumes:
                  - data:/data
                ports:
                  - "8080:8080"
                depends_on:
                  seed:
                    condition: service_healthy
            """;
        var problems = DeployChecks.CheckCompose(bad, Deploy("compose"));

        Assert.Contains(problems, p => p.StartsWith("node: no Dockerfile", StringComparison.Ordinal));
        Assert.Contains(problems, p => p == "trainer: secret cert is not declared");
        Assert.Contains(problems, p => p == "trainer: volume data is not declared");
        Assert.Contains(problems, p => p == "trainer: depends on seed, which is no service");
        Assert.Contains(problems, p => p.Contains("AUTODROPOUT_NO_SUCH is not a variable", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("--no-such-flag", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("publishes 8080:8080", StringComparison.Ordinal));
    }

    [Fact]
    public void All_Kubernetes_YAML_parses()
    {
        var files = Directory.GetFiles(Deploy("k8s"), "*.yaml", SearchOption.AllDirectories);
        Assert.True(files.Length >= 6, $"only {files.Length} YAML files");
        Assert.All(files, f => Assert.NotEmpty(DeployChecks.LoadYaml(File.ReadAllText(f))));
    }

    [Theory]
    [InlineData("base")]
    [InlineData("overlays/cpu")]
    public void Every_reference_in_the_Kubernetes_manifests_resolves(string kustomization)
    {
        Assert.Empty(DeployChecks.CheckKustomization(Deploy("k8s", kustomization), Root));
    }

    [Fact]
    public void Trainers_ask_for_a_GPU_and_the_cpu_overlay_drops_it()
    {
        var problems = new List<string>();
        var k = DeployChecks.LoadKustomization(Deploy("k8s", "base"), problems);
        Assert.Empty(problems);
        var trainer = k.Objects.Single(o => o.Node.Get("kind").Text() == "Deployment" && o.Node.Get("metadata").Get("name").Text() == "trainer").Node;
        var container = trainer.Get("spec").Get("template").Get("spec").Get("containers").Items().Single();
        Assert.Equal("1", container.Get("resources").Get("limits").Get("nvidia.com/gpu").Text());
        var controller = k.Objects.Single(o => o.Node.Get("kind").Text() == "Deployment" && o.Node.Get("metadata").Get("name").Text() == "controller").Node;
        Assert.Equal("2", controller.Get("spec").Get("replicas").Text());
        Assert.Equal("StatefulSet", k.Objects.Single(o => o.Node.Get("metadata").Get("name").Text() == "seed").Node.Get("kind").Text());
        Assert.Equal("None", k.Objects.Single(o => o.Node.Get("metadata").Get("name").Text() == "seed-headless").Node.Get("spec").Get("clusterIP").Text());

        var cpu = DeployChecks.LoadKustomization(Deploy("k8s", "overlays", "cpu"), problems);
        var patch = cpu.Patches.Single().Patch.Get("spec").Get("template").Get("spec");
        // null deletes in a strategic merge patch
        Assert.Equal("null", patch.Get("containers").Items().Single().Get("resources").Get("limits").Get("nvidia.com/gpu").Text());
        Assert.Equal("null", patch.Get("tolerations").Text());
    }

    /// <summary>Kustomize itself builds both, where kubectl is installed (it is not needed otherwise).</summary>
    [SkippableTheory]
    [InlineData("base", "autodropout-node:cuda")]
    [InlineData("overlays/cpu", "autodropout-node:cpu")]
    public void Kustomize_builds_the_manifests(string kustomization, string trainerImage)
    {
        var kubectl = (System.Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, "kubectl")).FirstOrDefault(File.Exists);
        Skip.If(kubectl is null, "no kubectl installed");
        var info = new System.Diagnostics.ProcessStartInfo(kubectl!, ["kustomize", Deploy("k8s", kustomization)]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = System.Diagnostics.Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, errors);

        var objects = DeployChecks.LoadYaml(output.Result).Select(d => d.RootNode).ToList();
        var trainer = objects.Single(o => o.Get("kind").Text() == "Deployment" && o.Get("metadata").Get("name").Text() == "trainer");
        var container = trainer.Get("spec").Get("template").Get("spec").Get("containers").Items().Single();
        Assert.Equal(trainerImage, container.Get("image").Text());
        Assert.Equal(trainerImage.EndsWith("cuda", StringComparison.Ordinal), container.Get("resources").Get("limits").Get("nvidia.com/gpu") is not null);
        Assert.Single(container.Get("env").Items(), e => e.Get("name").Text() == "AUTODROPOUT_DEVICES");
    }

    [Fact]
    public void The_Kubernetes_check_finds_bad_manifests()
    {
        File.WriteAllText(Path.Combine(_work, "kustomization.yaml"), """
            resources: [node.yaml, missing.yaml]
            secretGenerator:
              - name: secrets
                literals: [token=x]
            """);
        File.WriteAllText(Path.Combine(_work, "node.yaml"), """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: trainer
            spec:
              template:
                spec:
                  containers:
                    - name: trainer
                      image: autodropout-node:cpu
                      args: ["node", "trainer", "--no-such-flag"]
                      env:
                        - name: AUTODROPOUT_NO_SUCH
                          value: "1"
                        - name: AUTODROPOUT_HOST
                          value: $(POD_IP)
                        - name: AUTODROPOUT_TOKEN
                          valueFrom:
                            secretKeyRef:
                              name: secrets
                              key: no-such-key
                      ports:
                        - name: cmd
                          containerPort: 9110
                      readinessProbe:
                        httpGet:
                          path: /v1/health/ready
                          port: 9999
            """);
        var problems = DeployChecks.CheckKustomization(_work, Root);

        Assert.Contains(problems, p => p.Contains("resource missing.yaml does not exist", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("secret secrets has no key no-such-key", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("AUTODROPOUT_NO_SUCH is not a variable", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("uses $(POD_IP), not defined above it", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("readinessProbe asks port 9999", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("liveness is not /v1/health", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("--no-such-flag", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("runAsNonRoot", StringComparison.Ordinal));
    }

    /// <summary>The hooks run `autodropout cluster leave` (the local node leaves before SIGTERM).</summary>
    [Fact]
    public void The_preStop_hooks_make_the_node_leave_with_a_command_the_CLI_parses()
    {
        var k = DeployChecks.LoadKustomization(Deploy("k8s", "base"), []);
        var hooks = DeployChecks.PreStopCommands(k).ToList();
        Assert.Equal(2, hooks.Count); // controller and trainer; the seed image has no CLI and leaves on SIGTERM
        Assert.All(hooks, h => Assert.Equal(["cluster", "leave"], h.Command.Skip(2)));
        Assert.All(hooks, h => Assert.Empty(DeployChecks.CommandProblems(h.Command, h.Where)));
    }

    public void Dispose()
    {
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }
}
