# syntax=docker/dockerfile:1
# Controller and trainer nodes with CUDA torch (-p:TorchBackend=cuda, which references TorchSharp-cuda-linux; its
# libtorch is built for CUDA 12.8). The host needs the NVIDIA driver and container toolkit.
# Build from the repository root:  docker build -f deploy/docker/node-cuda.Dockerfile -t autodropout-node:cuda .
# Run:  docker run --gpus all ... autodropout-node:cuda node trainer --devices cuda:0
ARG DOTNET_VERSION=10.0
ARG CUDA_IMAGE=nvidia/cuda:12.8.1-runtime-ubuntu24.04

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
RUN dotnet restore src/AutoDropout.Cli/AutoDropout.Cli.csproj -p:TorchBackend=cuda
COPY hocon/ hocon/
COPY data/ data/
COPY src/ src/
COPY bench/ bench/
# the image has no .git: the commit the version names comes from the build argument
ARG SOURCE_REVISION=unknown
RUN dotnet publish src/AutoDropout.Cli/AutoDropout.Cli.csproj -c Release --no-restore -o /app -p:TorchBackend=cuda -p:SourceRevisionId=${SOURCE_REVISION}

# the .NET runtime comes from Microsoft's image of the same Ubuntu release as the CUDA image
FROM mcr.microsoft.com/dotnet/aspnet:${DOTNET_VERSION}-noble AS dotnet

FROM ${CUDA_IMAGE} AS runtime
# what the .NET runtime needs beyond the CUDA image, and curl for the health check
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl libicu74 tzdata \
    && rm -rf /var/lib/apt/lists/*
COPY --from=dotnet /usr/share/dotnet /usr/share/dotnet
RUN ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet \
    && groupadd --gid 1654 app && useradd --no-log-init --uid 1654 --gid 1654 --create-home app \
    && mkdir -p /var/lib/autodropout && chown app:app /var/lib/autodropout
# every node uses the same ports in its own container; the command endpoint listens on every interface of the
# container so probes and Prometheus reach it (plain HTTP unless AUTODROPOUT_CMD_TLS_CERT is set; every route but
# health needs a token)
ENV DOTNET_ROOT=/usr/share/dotnet \
    AUTODROPOUT_HOME=/var/lib/autodropout \
    AUTODROPOUT_PORT=4053 \
    AUTODROPOUT_CMD_PORT=9110 \
    AUTODROPOUT_CMD_HOST=0.0.0.0 \
    AUTODROPOUT_DEVICES=cuda:0 \
    OMP_WAIT_POLICY=PASSIVE \
    NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility
COPY --from=build /app /app
# the licences of what the image carries
COPY LICENSE NOTICE /app/
USER app
WORKDIR /var/lib/autodropout
EXPOSE 4053 9110
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=3 \
    CMD curl -fsS "http://127.0.0.1:${AUTODROPOUT_CMD_PORT}/v1/health" || exit 1
# SIGTERM makes the node leave the cluster and exit 0
STOPSIGNAL SIGTERM
ENTRYPOINT ["dotnet", "/app/autodropout.dll"]
CMD ["node", "trainer"]
