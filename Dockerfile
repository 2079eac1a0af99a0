# syntax=docker/dockerfile:1
# filterproxy: DNS resolver + HTTP(S) filtering proxy for school networks.
#   docker build -t filterproxy .
#   docker run -v fp-data:/var/lib/filterproxy -v fp-ca:/var/lib/filterproxy/ca -p 53:5353/udp ... filterproxy
# Python >= 3.12 installs the mitmproxy 12 line (see pyproject.toml).

FROM python:3.12-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY filterproxy ./filterproxy
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.12-slim-bookworm
LABEL org.opencontainers.image.title="filterproxy" \
      org.opencontainers.image.description="Internet filter for school networks: DNS resolver and HTTP(S) proxy" \
      org.opencontainers.image.licenses="AGPL-3.0-or-later"

# nftables for gateway mode (the container then needs NET_ADMIN and the host's network);
# libcap2-bin to give nft that one capability, so the service itself never runs as root.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends nftables libcap2-bin \
    && setcap cap_net_admin+ep /usr/sbin/nft \
    && apt-get purge -y libcap2-bin \
    && rm -rf /var/lib/apt/lists/*

# Our own wheel, built in the first stage: its version is the checkout's, nothing to pin.
# hadolint ignore=DL3013
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links=/wheels filterproxy \
    && groupadd --system --gid 10001 filterproxy \
    && useradd --system --uid 10001 --gid filterproxy --home-dir /var/lib/filterproxy \
        --shell /usr/sbin/nologin filterproxy \
    && install -d -o filterproxy -g filterproxy -m 0750 /var/lib/filterproxy /var/lib/filterproxy/ca \
        /opt/filterproxy/blocklists/downloads

# The shipped configuration and lists keep the repository's layout (the config names ../blocklists);
# `filterproxy lists update` downloads into blocklists/downloads, a volume of its own.
COPY --chown=10001:10001 config /opt/filterproxy/config
COPY --chown=10001:10001 blocklists /opt/filterproxy/blocklists
COPY deploy/docker/healthcheck.py /usr/local/lib/filterproxy/healthcheck.py

ENV FILTERPROXY_CONFIG=/opt/filterproxy/config/filterproxy.yaml \
    FILTERPROXY_DATA_DIR=/var/lib/filterproxy \
    FILTERPROXY__DNS__LISTEN=0.0.0.0:5353 \
    FILTERPROXY__DNS__ALLOW_NETWORKS=[127.0.0.0/8,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7] \
    FILTERPROXY__PROXY__LISTEN=0.0.0.0:3128 \
    FILTERPROXY__METRICS__LISTEN=0.0.0.0:9153 \
    PYTHONUNBUFFERED=1

# Data (index, SQLite incidents, spool, local lists), the school CA and downloaded lists survive upgrades.
VOLUME ["/var/lib/filterproxy", "/var/lib/filterproxy/ca", "/opt/filterproxy/blocklists/downloads"]
# DNS (map 53 to it), proxy, metrics: all unprivileged ports, so no capability is needed to bind them.
EXPOSE 5353/udp 5353/tcp 3128/tcp 9153/tcp

USER 10001:10001
WORKDIR /var/lib/filterproxy
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "/usr/local/lib/filterproxy/healthcheck.py"]
ENTRYPOINT ["filterproxy"]
CMD ["serve"]
