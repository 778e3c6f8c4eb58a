# syntax=docker/dockerfile:1
# Controller and trainer nodes (one executable, the role is its argument), CPU torch.
# Build from the repository root:  docker build -f deploy/docker/node.Dockerfile -t autodropout-node:cpu .
# Run:  docker run ... autodropout-node:cpu node controller   (default: node trainer)
# The CUDA build is node-cuda.Dockerfile.
ARG DOTNET_VERSION=10.0

FROM mcr.microsoft.com/dotnet/sdk:${DOTNET_VERSION} AS build
WORKDIR /src
# restore from the project files alone first, so a change to the sources does not fetch libtorch again
COPY global.json Directory.Build.props Directory.Build.targets Directory.Packages.props .editorconfig ./
COPY build/ build/
COPY src/AutoDropout.Core/AutoDropout.Core.csproj src/AutoDropout.Core/
COPY src/Messages/Messages.csproj src/Messages/
COPY src/AutoDropout.Search/AutoDropout.Search.csproj src/AutoDropout.Search/
COPY src/AutoDropout.Torch/AutoDropout.Torch.csproj src/AutoDropout.Torch/
COPY src/AutoDropout.Training/AutoDropout.Training.csproj src/AutoDropout.Training/
COPY src/AutoDropout.Policy/AutoDropout.Policy.csproj src/AutoDropout.Policy/
COPY src/Cluster.Common/Cluster.Common.csproj src/Cluster.Common/
COPY src/Cluster.Seed/Cluster.Seed.csproj src/Cluster.Seed/
COPY src/Cluster.Controller/Cluster.Controller.csproj src/Cluster.Controller/
COPY src/Cluster.Trainer/Cluster.Trainer.csproj src/Cluster.Trainer/
COPY bench/AutoDropout.Bench/AutoDropout.Bench.csproj bench/AutoDropout.Bench/
COPY src/AutoDropout.Cli/AutoDropout.Cli.csproj src/AutoDropout.Cli/
RUN dotnet restore src/AutoDropout.Cli/AutoDropout.Cli.csproj -p:TorchBackend=cpu
COPY hocon/ hocon/
COPY data/ data/
COPY src/ src/
COPY bench/ bench/
# the image has no .git: the commit the version names comes from the build argument
ARG SOURCE_REVISION=unknown
RUN dotnet publish src/AutoDropout.Cli/AutoDropout.Cli.csproj -c Release --no-restore -o /app -p:TorchBackend=cpu -p:SourceRevisionId=${SOURCE_REVISION}

FROM mcr.microsoft.com/dotnet/aspnet:${DOTNET_VERSION} AS runtime
# curl for the health check; the base image has no HTTP client
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
RUN mkdir -p /var/lib/autodropout && chown app:app /var/lib/autodropout
# every node uses the same ports in its own container; the command endpoint listens on every interface of the
# container so probes and Prometheus reach it (plain HTTP unless AUTODROPOUT_CMD_TLS_CERT is set; every route but
# health needs a token). OMP_WAIT_POLICY only works from the launch environment.
ENV AUTODROPOUT_HOME=/var/lib/autodropout \
    AUTODROPOUT_PORT=4053 \
    AUTODROPOUT_CMD_PORT=9110 \
    AUTODROPOUT_CMD_HOST=0.0.0.0 \
    AUTODROPOUT_DEVICES=cpu \
    OMP_WAIT_POLICY=PASSIVE
COPY --from=build /app /app
# the licences of what the image carries
COPY LICENSE NOTICE /app/
USER app
WORKDIR /var/lib/autodropout
EXPOSE 4053 9110
HEALTHCHECK --interval=15s --timeout=5s --start-period=90s --retries=3 \
    CMD curl -fsS "http://127.0.0.1:${AUTODROPOUT_CMD_PORT}/v1/health" || exit 1
# SIGTERM makes the node leave the cluster and exit 0
STOPSIGNAL SIGTERM
ENTRYPOINT ["dotnet", "/app/autodropout.dll"]
CMD ["node", "trainer"]
