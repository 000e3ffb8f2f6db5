from argosy.api.v1 import resources_pb2 as _resources_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RegisterRequest(_message.Message):
    __slots__ = ("token", "cluster_name", "labels", "csr_pem")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    CLUSTER_NAME_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    CSR_PEM_FIELD_NUMBER: _ClassVar[int]
    token: str
    cluster_name: str
    labels: _containers.ScalarMap[str, str]
    csr_pem: bytes
    def __init__(self, token: _Optional[str] = ..., cluster_name: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., csr_pem: _Optional[bytes] = ...) -> None: ...

class RegisterResponse(_message.Message):
    __slots__ = ("cluster_id", "credential", "certificate_pem", "ca_pem", "stream_port")
    CLUSTER_ID_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    CERTIFICATE_PEM_FIELD_NUMBER: _ClassVar[int]
    CA_PEM_FIELD_NUMBER: _ClassVar[int]
    STREAM_PORT_FIELD_NUMBER: _ClassVar[int]
    cluster_id: str
    credential: str
    certificate_pem: bytes
    ca_pem: bytes
    stream_port: int
    def __init__(self, cluster_id: _Optional[str] = ..., credential: _Optional[str] = ..., certificate_pem: _Optional[bytes] = ..., ca_pem: _Optional[bytes] = ..., stream_port: _Optional[int] = ...) -> None: ...

class RenewCertificateRequest(_message.Message):
    __slots__ = ("csr_pem",)
    CSR_PEM_FIELD_NUMBER: _ClassVar[int]
    csr_pem: bytes
    def __init__(self, csr_pem: _Optional[bytes] = ...) -> None: ...

class RenewCertificateResponse(_message.Message):
    __slots__ = ("certificate_pem",)
    CERTIFICATE_PEM_FIELD_NUMBER: _ClassVar[int]
    certificate_pem: bytes
    def __init__(self, certificate_pem: _Optional[bytes] = ...) -> None: ...

class ConnectRequest(_message.Message):
    __slots__ = ("hello", "ack", "status", "heartbeat")
    HELLO_FIELD_NUMBER: _ClassVar[int]
    ACK_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    hello: Hello
    ack: Ack
    status: StatusReport
    heartbeat: Heartbeat
    def __init__(self, hello: _Optional[_Union[Hello, _Mapping]] = ..., ack: _Optional[_Union[Ack, _Mapping]] = ..., status: _Optional[_Union[StatusReport, _Mapping]] = ..., heartbeat: _Optional[_Union[Heartbeat, _Mapping]] = ...) -> None: ...

class Hello(_message.Message):
    __slots__ = ("applied", "agent_version")
    class AppliedEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    APPLIED_FIELD_NUMBER: _ClassVar[int]
    AGENT_VERSION_FIELD_NUMBER: _ClassVar[int]
    applied: _containers.ScalarMap[str, str]
    agent_version: str
    def __init__(self, applied: _Optional[_Mapping[str, str]] = ..., agent_version: _Optional[str] = ...) -> None: ...

class Ack(_message.Message):
    __slots__ = ("bundle", "revision", "error", "resync")
    BUNDLE_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    RESYNC_FIELD_NUMBER: _ClassVar[int]
    bundle: str
    revision: str
    error: str
    resync: bool
    def __init__(self, bundle: _Optional[str] = ..., revision: _Optional[str] = ..., error: _Optional[str] = ..., resync: _Optional[bool] = ...) -> None: ...

class StatusReport(_message.Message):
    __slots__ = ("deployments",)
    DEPLOYMENTS_FIELD_NUMBER: _ClassVar[int]
    deployments: _containers.RepeatedCompositeFieldContainer[DeploymentStatus]
    def __init__(self, deployments: _Optional[_Iterable[_Union[DeploymentStatus, _Mapping]]] = ...) -> None: ...

class DeploymentStatus(_message.Message):
    __slots__ = ("bundle", "revision", "ready", "resources", "resource_count", "apply_error")
    BUNDLE_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    READY_FIELD_NUMBER: _ClassVar[int]
    RESOURCES_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_COUNT_FIELD_NUMBER: _ClassVar[int]
    APPLY_ERROR_FIELD_NUMBER: _ClassVar[int]
    bundle: str
    revision: str
    ready: bool
    resources: _containers.RepeatedCompositeFieldContainer[_resources_pb2.ResourceState]
    resource_count: int
    apply_error: str
    def __init__(self, bundle: _Optional[str] = ..., revision: _Optional[str] = ..., ready: _Optional[bool] = ..., resources: _Optional[_Iterable[_Union[_resources_pb2.ResourceState, _Mapping]]] = ..., resource_count: _Optional[int] = ..., apply_error: _Optional[str] = ...) -> None: ...

class Heartbeat(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ConnectResponse(_message.Message):
    __slots__ = ("upsert", "delete", "ping", "welcome", "retry")
    UPSERT_FIELD_NUMBER: _ClassVar[int]
    DELETE_FIELD_NUMBER: _ClassVar[int]
    PING_FIELD_NUMBER: _ClassVar[int]
    WELCOME_FIELD_NUMBER: _ClassVar[int]
    RETRY_FIELD_NUMBER: _ClassVar[int]
    upsert: DeploymentUpsert
    delete: DeploymentDelete
    ping: Ping
    welcome: Welcome
    retry: DeploymentRetry
    def __init__(self, upsert: _Optional[_Union[DeploymentUpsert, _Mapping]] = ..., delete: _Optional[_Union[DeploymentDelete, _Mapping]] = ..., ping: _Optional[_Union[Ping, _Mapping]] = ..., welcome: _Optional[_Union[Welcome, _Mapping]] = ..., retry: _Optional[_Union[DeploymentRetry, _Mapping]] = ...) -> None: ...

class Welcome(_message.Message):
    __slots__ = ("cluster_id", "cluster_name", "heartbeat_seconds")
    CLUSTER_ID_FIELD_NUMBER: _ClassVar[int]
    CLUSTER_NAME_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    cluster_id: str
    cluster_name: str
    heartbeat_seconds: int
    def __init__(self, cluster_id: _Optional[str] = ..., cluster_name: _Optional[str] = ..., heartbeat_seconds: _Optional[int] = ...) -> None: ...

class DeploymentUpsert(_message.Message):
    __slots__ = ("bundle", "revision", "base_revision", "upserts", "removed", "resource_count", "options", "chunk_index", "chunk_count")
    BUNDLE_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    BASE_REVISION_FIELD_NUMBER: _ClassVar[int]
    UPSERTS_FIELD_NUMBER: _ClassVar[int]
    REMOVED_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_COUNT_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    CHUNK_INDEX_FIELD_NUMBER: _ClassVar[int]
    CHUNK_COUNT_FIELD_NUMBER: _ClassVar[int]
    bundle: str
    revision: str
    base_revision: str
    upserts: _containers.RepeatedCompositeFieldContainer[_resources_pb2.Resource]
    removed: _containers.RepeatedScalarFieldContainer[str]
    resource_count: int
    options: DeploymentOptions
    chunk_index: int
    chunk_count: int
    def __init__(self, bundle: _Optional[str] = ..., revision: _Optional[str] = ..., base_revision: _Optional[str] = ..., upserts: _Optional[_Iterable[_Union[_resources_pb2.Resource, _Mapping]]] = ..., removed: _Optional[_Iterable[str]] = ..., resource_count: _Optional[int] = ..., options: _Optional[_Union[DeploymentOptions, _Mapping]] = ..., chunk_index: _Optional[int] = ..., chunk_count: _Optional[int] = ...) -> None: ...

class DeploymentOptions(_message.Message):
    __slots__ = ("default_namespace", "keep_resources", "force", "correct_drift", "compare_patches_json", "ignore_conditions_json", "force_sync_generation", "take_ownership", "service_account", "namespace_labels", "namespace_annotations", "delete_namespace")
    class NamespaceLabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class NamespaceAnnotationsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    DEFAULT_NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    KEEP_RESOURCES_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    CORRECT_DRIFT_FIELD_NUMBER: _ClassVar[int]
    COMPARE_PATCHES_JSON_FIELD_NUMBER: _ClassVar[int]
    IGNORE_CONDITIONS_JSON_FIELD_NUMBER: _ClassVar[int]
    FORCE_SYNC_GENERATION_FIELD_NUMBER: _ClassVar[int]
    TAKE_OWNERSHIP_FIELD_NUMBER: _ClassVar[int]
    SERVICE_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_LABELS_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_ANNOTATIONS_FIELD_NUMBER: _ClassVar[int]
    DELETE_NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    default_namespace: str
    keep_resources: bool
    force: bool
    correct_drift: bool
    compare_patches_json: str
    ignore_conditions_json: str
    force_sync_generation: int
    take_ownership: bool
    service_account: str
    namespace_labels: _containers.ScalarMap[str, str]
    namespace_annotations: _containers.ScalarMap[str, str]
    delete_namespace: bool
    def __init__(self, default_namespace: _Optional[str] = ..., keep_resources: _Optional[bool] = ..., force: _Optional[bool] = ..., correct_drift: _Optional[bool] = ..., compare_patches_json: _Optional[str] = ..., ignore_conditions_json: _Optional[str] = ..., force_sync_generation: _Optional[int] = ..., take_ownership: _Optional[bool] = ..., service_account: _Optional[str] = ..., namespace_labels: _Optional[_Mapping[str, str]] = ..., namespace_annotations: _Optional[_Mapping[str, str]] = ..., delete_namespace: _Optional[bool] = ...) -> None: ...

class DeploymentRetry(_message.Message):
    __slots__ = ("bundle",)
    BUNDLE_FIELD_NUMBER: _ClassVar[int]
    bundle: str
    def __init__(self, bundle: _Optional[str] = ...) -> None: ...

class DeploymentDelete(_message.Message):
    __slots__ = ("bundle",)
    BUNDLE_FIELD_NUMBER: _ClassVar[int]
    bundle: str
    def __init__(self, bundle: _Optional[str] = ...) -> None: ...

class Ping(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
