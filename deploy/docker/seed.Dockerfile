# syntax=docker/dockerfile:1
# The seed node: cluster membership only, no torch (its runtime stage holds ~14 MB of application).
# Build from the repository root:  docker build -f deploy/docker/seed.Dockerfile -t autodropout-seed .
# Run with AUTODROPOUT_HOST set to the name or address other nodes reach it by (docs/operations.md, "Containers").
ARG DOTNET_VERSION=10.0

FROM mcr.microsoft.com/dotnet/sdk:${DOTNET_VERSION} AS build
WORKDIR /src
# restore from the project files alone first, so a change to the sources does not fetch packages again
COPY global.json Directory.Build.props Directory.Build.targets Directory.Packages.props .editorconfig ./
COPY build/ build/
COPY src/AutoDropout.Core/AutoDropout.Core.csproj src/AutoDropout.Core/
COPY src/Messages/Messages.csproj src/Messages/
COPY src/Cluster.Common/Cluster.Common.csproj src/Cluster.Common/
COPY src/Cluster.Seed/Cluster.Seed.csproj src/Cluster.Seed/
RUN dotnet restore src/Cluster.Seed/Cluster.Seed.csproj
COPY hocon/ hocon/
COPY src/ src/
# the image has no .git: the commit the version names comes from the build argument
ARG SOURCE_REVISION=unknown
RUN dotnet publish src/Cluster.Seed/Cluster.Seed.csproj -c Release --no-restore -o /app -p:SourceRevisionId=${SOURCE_REVISION}

FROM mcr.microsoft.com/dotnet/aspnet:${DOTNET_VERSION} AS runtime
# curl for the health check; the base image has no HTTP client
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
RUN mkdir -p /var/lib/autodropout && chown app:app /var/lib/autodropout
# the command endpoint listens on every interface of the container so probes and Prometheus reach it; it is plain
# HTTP unless AUTODROPOUT_CMD_TLS_CERT is set, and every route but health needs a token
ENV AUTODROPOUT_HOME=/var/lib/autodropout \
    AUTODROPOUT_PORT=4053 \
    AUTODROPOUT_CMD_PORT=9110 \
    AUTODROPOUT_CMD_HOST=0.0.0.0
COPY --from=build /app /app
# the licences of what the image carries
COPY LICENSE NOTICE /app/
USER app
WORKDIR /var/lib/autodropout
EXPOSE 4053 9110
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD curl -fsS "http://127.0.0.1:${AUTODROPOUT_CMD_PORT}/v1/health" || exit 1
# SIGTERM makes the node leave the cluster and exit 0
STOPSIGNAL SIGTERM
ENTRYPOINT ["dotnet", "/app/autodropout-seed.dll"]
