from argosy.api.v1 import resources_pb2 as _resources_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class BundleSpec(_message.Message):
    __slots__ = ("name", "labels", "files")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    name: str
    labels: _containers.ScalarMap[str, str]
    files: _containers.RepeatedCompositeFieldContainer[_resources_pb2.BundleFile]
    def __init__(self, name: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., files: _Optional[_Iterable[_Union[_resources_pb2.BundleFile, _Mapping]]] = ...) -> None: ...

class Bundle(_message.Message):
    __slots__ = ("spec", "revision", "created_unix", "updated_unix", "resource_count")
    SPEC_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    CREATED_UNIX_FIELD_NUMBER: _ClassVar[int]
    UPDATED_UNIX_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_COUNT_FIELD_NUMBER: _ClassVar[int]
    spec: BundleSpec
    revision: str
    created_unix: int
    updated_unix: int
    resource_count: int
    def __init__(self, spec: _Optional[_Union[BundleSpec, _Mapping]] = ..., revision: _Optional[str] = ..., created_unix: _Optional[int] = ..., updated_unix: _Optional[int] = ..., resource_count: _Optional[int] = ...) -> None: ...

class ApplyBundlesRequest(_message.Message):
    __slots__ = ("bundles", "dry_run")
    BUNDLES_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    bundles: _containers.RepeatedCompositeFieldContainer[BundleSpec]
    dry_run: bool
    def __init__(self, bundles: _Optional[_Iterable[_Union[BundleSpec, _Mapping]]] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class ApplyBundlesResponse(_message.Message):
    __slots__ = ("bundles",)
    BUNDLES_FIELD_NUMBER: _ClassVar[int]
    bundles: _containers.RepeatedCompositeFieldContainer[BundleApplied]
    def __init__(self, bundles: _Optional[_Iterable[_Union[BundleApplied, _Mapping]]] = ...) -> None: ...

class BundleApplied(_message.Message):
    __slots__ = ("name", "revision", "changed", "resource_count", "warnings", "skipped", "planned")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_COUNT_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    PLANNED_FIELD_NUMBER: _ClassVar[int]
    name: str
    revision: str
    changed: bool
    resource_count: int
    warnings: _containers.RepeatedScalarFieldContainer[str]
    skipped: str
    planned: _containers.RepeatedCompositeFieldContainer[PlannedChange]
    def __init__(self, name: _Optional[str] = ..., revision: _Optional[str] = ..., changed: _Optional[bool] = ..., resource_count: _Optional[int] = ..., warnings: _Optional[_Iterable[str]] = ..., skipped: _Optional[str] = ..., planned: _Optional[_Iterable[_Union[PlannedChange, _Mapping]]] = ...) -> None: ...

class GetBundleRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetBundleResponse(_message.Message):
    __slots__ = ("bundle",)
    BUNDLE_FIELD_NUMBER: _ClassVar[int]
    bundle: Bundle
    def __init__(self, bundle: _Optional[_Union[Bundle, _Mapping]] = ...) -> None: ...

class ListBundlesRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "label_selector", "state")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    LABEL_SELECTOR_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    label_selector: str
    state: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., label_selector: _Optional[str] = ..., state: _Optional[str] = ...) -> None: ...

class ListBundlesResponse(_message.Message):
    __slots__ = ("bundles", "next_page_token")
    BUNDLES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    bundles: _containers.RepeatedCompositeFieldContainer[Bundle]
    next_page_token: str
    def __init__(self, bundles: _Optional[_Iterable[_Union[Bundle, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DeleteBundleRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class DeleteBundleResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Cluster(_message.Message):
    __slots__ = ("id", "name", "labels", "connected", "created_unix", "last_seen_unix", "revoked", "hub_labels", "hub_removed_labels", "state")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class HubLabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_FIELD_NUMBER: _ClassVar[int]
    CREATED_UNIX_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_UNIX_FIELD_NUMBER: _ClassVar[int]
    REVOKED_FIELD_NUMBER: _ClassVar[int]
    HUB_LABELS_FIELD_NUMBER: _ClassVar[int]
    HUB_REMOVED_LABELS_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    labels: _containers.ScalarMap[str, str]
    connected: bool
    created_unix: int
    last_seen_unix: int
    revoked: bool
    hub_labels: _containers.ScalarMap[str, str]
    hub_removed_labels: _containers.RepeatedScalarFieldContainer[str]
    state: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., connected: _Optional[bool] = ..., created_unix: _Optional[int] = ..., last_seen_unix: _Optional[int] = ..., revoked: _Optional[bool] = ..., hub_labels: _Optional[_Mapping[str, str]] = ..., hub_removed_labels: _Optional[_Iterable[str]] = ..., state: _Optional[str] = ...) -> None: ...

class ListClustersRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "label_selector", "state")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    LABEL_SELECTOR_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    label_selector: str
    state: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., label_selector: _Optional[str] = ..., state: _Optional[str] = ...) -> None: ...

class ListClustersResponse(_message.Message):
    __slots__ = ("clusters", "next_page_token")
    CLUSTERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    clusters: _containers.RepeatedCompositeFieldContainer[Cluster]
    next_page_token: str
    def __init__(self, clusters: _Optional[_Iterable[_Union[Cluster, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DeleteClusterRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class DeleteClusterResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RevokeClusterRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class RevokeClusterResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CreateAdminTokenRequest(_message.Message):
    __slots__ = ("role",)
    ROLE_FIELD_NUMBER: _ClassVar[int]
    role: str
    def __init__(self, role: _Optional[str] = ...) -> None: ...

class CreateAdminTokenResponse(_message.Message):
    __slots__ = ("token", "id")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    token: str
    id: str
    def __init__(self, token: _Optional[str] = ..., id: _Optional[str] = ...) -> None: ...

class AdminToken(_message.Message):
    __slots__ = ("id", "role", "created_unix", "revoked")
    ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    CREATED_UNIX_FIELD_NUMBER: _ClassVar[int]
    REVOKED_FIELD_NUMBER: _ClassVar[int]
    id: str
    role: str
    created_unix: int
    revoked: bool
    def __init__(self, id: _Optional[str] = ..., role: _Optional[str] = ..., created_unix: _Optional[int] = ..., revoked: _Optional[bool] = ...) -> None: ...

class ListAdminTokensRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListAdminTokensResponse(_message.Message):
    __slots__ = ("tokens",)
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    tokens: _containers.RepeatedCompositeFieldContainer[AdminToken]
    def __init__(self, tokens: _Optional[_Iterable[_Union[AdminToken, _Mapping]]] = ...) -> None: ...

class RevokeAdminTokenRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class RevokeAdminTokenResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class LabelSelector(_message.Message):
    __slots__ = ("match_labels", "match_expressions")
    class MatchLabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    MATCH_LABELS_FIELD_NUMBER: _ClassVar[int]
    MATCH_EXPRESSIONS_FIELD_NUMBER: _ClassVar[int]
    match_labels: _containers.ScalarMap[str, str]
    match_expressions: _containers.RepeatedCompositeFieldContainer[LabelSelectorRequirement]
    def __init__(self, match_labels: _Optional[_Mapping[str, str]] = ..., match_expressions: _Optional[_Iterable[_Union[LabelSelectorRequirement, _Mapping]]] = ...) -> None: ...

class LabelSelectorRequirement(_message.Message):
    __slots__ = ("key", "operator", "values")
    KEY_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    key: str
    operator: str
    values: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, key: _Optional[str] = ..., operator: _Optional[str] = ..., values: _Optional[_Iterable[str]] = ...) -> None: ...

class ClusterGroup(_message.Message):
    __slots__ = ("name", "selector")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SELECTOR_FIELD_NUMBER: _ClassVar[int]
    name: str
    selector: LabelSelector
    def __init__(self, name: _Optional[str] = ..., selector: _Optional[_Union[LabelSelector, _Mapping]] = ...) -> None: ...

class CreateGroupRequest(_message.Message):
    __slots__ = ("group",)
    GROUP_FIELD_NUMBER: _ClassVar[int]
    group: ClusterGroup
    def __init__(self, group: _Optional[_Union[ClusterGroup, _Mapping]] = ...) -> None: ...

class CreateGroupResponse(_message.Message):
    __slots__ = ("group",)
    GROUP_FIELD_NUMBER: _ClassVar[int]
    group: ClusterGroup
    def __init__(self, group: _Optional[_Union[ClusterGroup, _Mapping]] = ...) -> None: ...

class ListGroupsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListGroupsResponse(_message.Message):
    __slots__ = ("groups",)
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    groups: _containers.RepeatedCompositeFieldContainer[ClusterGroup]
    def __init__(self, groups: _Optional[_Iterable[_Union[ClusterGroup, _Mapping]]] = ...) -> None: ...

class DeleteGroupRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class DeleteGroupResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Token(_message.Message):
    __slots__ = ("id", "created_unix", "expires_unix", "revoked", "uses", "max_uses")
    ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_UNIX_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_UNIX_FIELD_NUMBER: _ClassVar[int]
    REVOKED_FIELD_NUMBER: _ClassVar[int]
    USES_FIELD_NUMBER: _ClassVar[int]
    MAX_USES_FIELD_NUMBER: _ClassVar[int]
    id: str
    created_unix: int
    expires_unix: int
    revoked: bool
    uses: int
    max_uses: int
    def __init__(self, id: _Optional[str] = ..., created_unix: _Optional[int] = ..., expires_unix: _Optional[int] = ..., revoked: _Optional[bool] = ..., uses: _Optional[int] = ..., max_uses: _Optional[int] = ...) -> None: ...

class CreateTokenRequest(_message.Message):
    __slots__ = ("ttl_seconds", "max_uses")
    TTL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    MAX_USES_FIELD_NUMBER: _ClassVar[int]
    ttl_seconds: int
    max_uses: int
    def __init__(self, ttl_seconds: _Optional[int] = ..., max_uses: _Optional[int] = ...) -> None: ...

class CreateTokenResponse(_message.Message):
    __slots__ = ("token", "info", "ca_pem")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    INFO_FIELD_NUMBER: _ClassVar[int]
    CA_PEM_FIELD_NUMBER: _ClassVar[int]
    token: str
    info: Token
    ca_pem: bytes
    def __init__(self, token: _Optional[str] = ..., info: _Optional[_Union[Token, _Mapping]] = ..., ca_pem: _Optional[bytes] = ...) -> None: ...

class ListTokensRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListTokensResponse(_message.Message):
    __slots__ = ("tokens",)
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    tokens: _containers.RepeatedCompositeFieldContainer[Token]
    def __init__(self, tokens: _Optional[_Iterable[_Union[Token, _Mapping]]] = ...) -> None: ...

class RevokeTokenRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class RevokeTokenResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class StateCount(_message.Message):
    __slots__ = ("state", "count")
    STATE_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    state: str
    count: int
    def __init__(self, state: _Optional[str] = ..., count: _Optional[int] = ...) -> None: ...

class ClusterStatus(_message.Message):
    __slots__ = ("name", "labels", "state", "bundles_ready", "bundles_desired", "connected", "deployments", "offline", "more_deployments")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    BUNDLES_READY_FIELD_NUMBER: _ClassVar[int]
    BUNDLES_DESIRED_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_FIELD_NUMBER: _ClassVar[int]
    DEPLOYMENTS_FIELD_NUMBER: _ClassVar[int]
    OFFLINE_FIELD_NUMBER: _ClassVar[int]
    MORE_DEPLOYMENTS_FIELD_NUMBER: _ClassVar[int]
    name: str
    labels: _containers.ScalarMap[str, str]
    state: str
    bundles_ready: int
    bundles_desired: int
    connected: bool
    deployments: _containers.RepeatedCompositeFieldContainer[DeploymentDetail]
    offline: bool
    more_deployments: bool
    def __init__(self, name: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., state: _Optional[str] = ..., bundles_ready: _Optional[int] = ..., bundles_desired: _Optional[int] = ..., connected: _Optional[bool] = ..., deployments: _Optional[_Iterable[_Union[DeploymentDetail, _Mapping]]] = ..., offline: _Optional[bool] = ..., more_deployments: _Optional[bool] = ...) -> None: ...

class GroupStatus(_message.Message):
    __slots__ = ("name", "cluster_count", "bundles_ready", "bundles_desired", "state", "selector")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CLUSTER_COUNT_FIELD_NUMBER: _ClassVar[int]
    BUNDLES_READY_FIELD_NUMBER: _ClassVar[int]
    BUNDLES_DESIRED_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    SELECTOR_FIELD_NUMBER: _ClassVar[int]
    name: str
    cluster_count: int
    bundles_ready: int
    bundles_desired: int
    state: str
    selector: LabelSelector
    def __init__(self, name: _Optional[str] = ..., cluster_count: _Optional[int] = ..., bundles_ready: _Optional[int] = ..., bundles_desired: _Optional[int] = ..., state: _Optional[str] = ..., selector: _Optional[_Union[LabelSelector, _Mapping]] = ...) -> None: ...

class BundleStatus(_message.Message):
    __slots__ = ("name", "clusters_ready", "clusters_desired", "state", "summary", "state_counts", "revision", "deployments", "rollout", "paused", "pinned_rev", "more_deployments")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CLUSTERS_READY_FIELD_NUMBER: _ClassVar[int]
    CLUSTERS_DESIRED_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    STATE_COUNTS_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    DEPLOYMENTS_FIELD_NUMBER: _ClassVar[int]
    ROLLOUT_FIELD_NUMBER: _ClassVar[int]
    PAUSED_FIELD_NUMBER: _ClassVar[int]
    PINNED_REV_FIELD_NUMBER: _ClassVar[int]
    MORE_DEPLOYMENTS_FIELD_NUMBER: _ClassVar[int]
    name: str
    clusters_ready: int
    clusters_desired: int
    state: str
    summary: str
    state_counts: _containers.RepeatedCompositeFieldContainer[StateCount]
    revision: str
    deployments: _containers.RepeatedCompositeFieldContainer[DeploymentDetail]
    rollout: RolloutStatus
    paused: bool
    pinned_rev: int
    more_deployments: bool
    def __init__(self, name: _Optional[str] = ..., clusters_ready: _Optional[int] = ..., clusters_desired: _Optional[int] = ..., state: _Optional[str] = ..., summary: _Optional[str] = ..., state_counts: _Optional[_Iterable[_Union[StateCount, _Mapping]]] = ..., revision: _Optional[str] = ..., deployments: _Optional[_Iterable[_Union[DeploymentDetail, _Mapping]]] = ..., rollout: _Optional[_Union[RolloutStatus, _Mapping]] = ..., paused: _Optional[bool] = ..., pinned_rev: _Optional[int] = ..., more_deployments: _Optional[bool] = ...) -> None: ...

class RolloutStatus(_message.Message):
    __slots__ = ("state", "reason", "partitions", "failures")
    STATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    PARTITIONS_FIELD_NUMBER: _ClassVar[int]
    FAILURES_FIELD_NUMBER: _ClassVar[int]
    state: str
    reason: str
    partitions: _containers.RepeatedCompositeFieldContainer[PartitionStatus]
    failures: int
    def __init__(self, state: _Optional[str] = ..., reason: _Optional[str] = ..., partitions: _Optional[_Iterable[_Union[PartitionStatus, _Mapping]]] = ..., failures: _Optional[int] = ...) -> None: ...

class PartitionStatus(_message.Message):
    __slots__ = ("name", "count", "unavailable", "state", "max_unavailable")
    NAME_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    UNAVAILABLE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    MAX_UNAVAILABLE_FIELD_NUMBER: _ClassVar[int]
    name: str
    count: int
    unavailable: int
    state: str
    max_unavailable: int
    def __init__(self, name: _Optional[str] = ..., count: _Optional[int] = ..., unavailable: _Optional[int] = ..., state: _Optional[str] = ..., max_unavailable: _Optional[int] = ...) -> None: ...

class DeploymentDetail(_message.Message):
    __slots__ = ("cluster", "state", "revision", "applied_revision", "message", "resources", "bundle", "stale", "held")
    CLUSTER_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    APPLIED_REVISION_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    RESOURCES_FIELD_NUMBER: _ClassVar[int]
    BUNDLE_FIELD_NUMBER: _ClassVar[int]
    STALE_FIELD_NUMBER: _ClassVar[int]
    HELD_FIELD_NUMBER: _ClassVar[int]
    cluster: str
    state: str
    revision: str
    applied_revision: str
    message: str
    resources: _containers.RepeatedCompositeFieldContainer[_resources_pb2.ResourceState]
    bundle: str
    stale: bool
    held: str
    def __init__(self, cluster: _Optional[str] = ..., state: _Optional[str] = ..., revision: _Optional[str] = ..., applied_revision: _Optional[str] = ..., message: _Optional[str] = ..., resources: _Optional[_Iterable[_Union[_resources_pb2.ResourceState, _Mapping]]] = ..., bundle: _Optional[str] = ..., stale: _Optional[bool] = ..., held: _Optional[str] = ...) -> None: ...

class GetStatusRequest(_message.Message):
    __slots__ = ("detail_bundles", "detail_clusters", "page_size", "page_token", "label_selector", "state")
    DETAIL_BUNDLES_FIELD_NUMBER: _ClassVar[int]
    DETAIL_CLUSTERS_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    LABEL_SELECTOR_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    detail_bundles: _containers.RepeatedScalarFieldContainer[str]
    detail_clusters: _containers.RepeatedScalarFieldContainer[str]
    page_size: int
    page_token: str
    label_selector: str
    state: str
    def __init__(self, detail_bundles: _Optional[_Iterable[str]] = ..., detail_clusters: _Optional[_Iterable[str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., label_selector: _Optional[str] = ..., state: _Optional[str] = ...) -> None: ...

class GetStatusResponse(_message.Message):
    __slots__ = ("clusters", "groups", "bundles", "repos", "next_page_token")
    CLUSTERS_FIELD_NUMBER: _ClassVar[int]
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    BUNDLES_FIELD_NUMBER: _ClassVar[int]
    REPOS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    clusters: _containers.RepeatedCompositeFieldContainer[ClusterStatus]
    groups: _containers.RepeatedCompositeFieldContainer[GroupStatus]
    bundles: _containers.RepeatedCompositeFieldContainer[BundleStatus]
    repos: _containers.RepeatedCompositeFieldContainer[Repo]
    next_page_token: str
    def __init__(self, clusters: _Optional[_Iterable[_Union[ClusterStatus, _Mapping]]] = ..., groups: _Optional[_Iterable[_Union[GroupStatus, _Mapping]]] = ..., bundles: _Optional[_Iterable[_Union[BundleStatus, _Mapping]]] = ..., repos: _Optional[_Iterable[_Union[Repo, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class WatchStatusRequest(_message.Message):
    __slots__ = ("bundle", "cluster", "group")
    BUNDLE_FIELD_NUMBER: _ClassVar[int]
    CLUSTER_FIELD_NUMBER: _ClassVar[int]
    GROUP_FIELD_NUMBER: _ClassVar[int]
    bundle: str
    cluster: str
    group: str
    def __init__(self, bundle: _Optional[str] = ..., cluster: _Optional[str] = ..., group: _Optional[str] = ...) -> None: ...

class WatchStatusResponse(_message.Message):
    __slots__ = ("snapshot", "clusters", "groups", "bundles", "removed_bundles", "removed_clusters", "removed_groups", "snapshot_continues")
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    CLUSTERS_FIELD_NUMBER: _ClassVar[int]
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    BUNDLES_FIELD_NUMBER: _ClassVar[int]
    REMOVED_BUNDLES_FIELD_NUMBER: _ClassVar[int]
    REMOVED_CLUSTERS_FIELD_NUMBER: _ClassVar[int]
    REMOVED_GROUPS_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_CONTINUES_FIELD_NUMBER: _ClassVar[int]
    snapshot: bool
    clusters: _containers.RepeatedCompositeFieldContainer[ClusterStatus]
    groups: _containers.RepeatedCompositeFieldContainer[GroupStatus]
    bundles: _containers.RepeatedCompositeFieldContainer[BundleStatus]
    removed_bundles: _containers.RepeatedScalarFieldContainer[str]
    removed_clusters: _containers.RepeatedScalarFieldContainer[str]
    removed_groups: _containers.RepeatedScalarFieldContainer[str]
    snapshot_continues: bool
    def __init__(self, snapshot: _Optional[bool] = ..., clusters: _Optional[_Iterable[_Union[ClusterStatus, _Mapping]]] = ..., groups: _Optional[_Iterable[_Union[GroupStatus, _Mapping]]] = ..., bundles: _Optional[_Iterable[_Union[BundleStatus, _Mapping]]] = ..., removed_bundles: _Optional[_Iterable[str]] = ..., removed_clusters: _Optional[_Iterable[str]] = ..., removed_groups: _Optional[_Iterable[str]] = ..., snapshot_continues: _Optional[bool] = ...) -> None: ...

class SetBundlePausedRequest(_message.Message):
    __slots__ = ("name", "paused")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PAUSED_FIELD_NUMBER: _ClassVar[int]
    name: str
    paused: bool
    def __init__(self, name: _Optional[str] = ..., paused: _Optional[bool] = ...) -> None: ...

class SetBundlePausedResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ResumeRolloutRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ResumeRolloutResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RepoSpec(_message.Message):
    __slots__ = ("name", "url", "branch", "tag", "revision", "paths", "interval_seconds", "secret", "labels")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    BRANCH_FIELD_NUMBER: _ClassVar[int]
    TAG_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    PATHS_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    name: str
    url: str
    branch: str
    tag: str
    revision: str
    paths: _containers.RepeatedScalarFieldContainer[str]
    interval_seconds: int
    secret: str
    labels: _containers.ScalarMap[str, str]
    def __init__(self, name: _Optional[str] = ..., url: _Optional[str] = ..., branch: _Optional[str] = ..., tag: _Optional[str] = ..., revision: _Optional[str] = ..., paths: _Optional[_Iterable[str]] = ..., interval_seconds: _Optional[int] = ..., secret: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ...) -> None: ...

class RepoPathError(_message.Message):
    __slots__ = ("path", "message")
    PATH_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    path: str
    message: str
    def __init__(self, path: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class RepoStatus(_message.Message):
    __slots__ = ("commit", "last_fetch_unix", "next_fetch_unix", "error", "path_errors", "bundles", "failures")
    COMMIT_FIELD_NUMBER: _ClassVar[int]
    LAST_FETCH_UNIX_FIELD_NUMBER: _ClassVar[int]
    NEXT_FETCH_UNIX_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    PATH_ERRORS_FIELD_NUMBER: _ClassVar[int]
    BUNDLES_FIELD_NUMBER: _ClassVar[int]
    FAILURES_FIELD_NUMBER: _ClassVar[int]
    commit: str
    last_fetch_unix: int
    next_fetch_unix: int
    error: str
    path_errors: _containers.RepeatedCompositeFieldContainer[RepoPathError]
    bundles: _containers.RepeatedScalarFieldContainer[str]
    failures: int
    def __init__(self, commit: _Optional[str] = ..., last_fetch_unix: _Optional[int] = ..., next_fetch_unix: _Optional[int] = ..., error: _Optional[str] = ..., path_errors: _Optional[_Iterable[_Union[RepoPathError, _Mapping]]] = ..., bundles: _Optional[_Iterable[str]] = ..., failures: _Optional[int] = ...) -> None: ...

class Repo(_message.Message):
    __slots__ = ("spec", "status", "created_unix")
    SPEC_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATED_UNIX_FIELD_NUMBER: _ClassVar[int]
    spec: RepoSpec
    status: RepoStatus
    created_unix: int
    def __init__(self, spec: _Optional[_Union[RepoSpec, _Mapping]] = ..., status: _Optional[_Union[RepoStatus, _Mapping]] = ..., created_unix: _Optional[int] = ...) -> None: ...

class AddRepoRequest(_message.Message):
    __slots__ = ("spec",)
    SPEC_FIELD_NUMBER: _ClassVar[int]
    spec: RepoSpec
    def __init__(self, spec: _Optional[_Union[RepoSpec, _Mapping]] = ...) -> None: ...

class AddRepoResponse(_message.Message):
    __slots__ = ("repo",)
    REPO_FIELD_NUMBER: _ClassVar[int]
    repo: Repo
    def __init__(self, repo: _Optional[_Union[Repo, _Mapping]] = ...) -> None: ...

class GetRepoRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetRepoResponse(_message.Message):
    __slots__ = ("repo",)
    REPO_FIELD_NUMBER: _ClassVar[int]
    repo: Repo
    def __init__(self, repo: _Optional[_Union[Repo, _Mapping]] = ...) -> None: ...

class ListReposRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListReposResponse(_message.Message):
    __slots__ = ("repos",)
    REPOS_FIELD_NUMBER: _ClassVar[int]
    repos: _containers.RepeatedCompositeFieldContainer[Repo]
    def __init__(self, repos: _Optional[_Iterable[_Union[Repo, _Mapping]]] = ...) -> None: ...

class DeleteRepoRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class DeleteRepoResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SyncRepoRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class SyncRepoResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SecretSpec(_message.Message):
    __slots__ = ("name", "username", "password", "ssh_key", "known_hosts", "helm_repo_hosts")
    NAME_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    SSH_KEY_FIELD_NUMBER: _ClassVar[int]
    KNOWN_HOSTS_FIELD_NUMBER: _ClassVar[int]
    HELM_REPO_HOSTS_FIELD_NUMBER: _ClassVar[int]
    name: str
    username: str
    password: bytes
    ssh_key: bytes
    known_hosts: str
    helm_repo_hosts: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., username: _Optional[str] = ..., password: _Optional[bytes] = ..., ssh_key: _Optional[bytes] = ..., known_hosts: _Optional[str] = ..., helm_repo_hosts: _Optional[_Iterable[str]] = ...) -> None: ...

class CreateSecretRequest(_message.Message):
    __slots__ = ("spec",)
    SPEC_FIELD_NUMBER: _ClassVar[int]
    spec: SecretSpec
    def __init__(self, spec: _Optional[_Union[SecretSpec, _Mapping]] = ...) -> None: ...

class CreateSecretResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListSecretsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListSecretsResponse(_message.Message):
    __slots__ = ("names",)
    NAMES_FIELD_NUMBER: _ClassVar[int]
    names: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, names: _Optional[_Iterable[str]] = ...) -> None: ...

class DeleteSecretRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class DeleteSecretResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Event(_message.Message):
    __slots__ = ("seq", "time_unix_ms", "kind", "bundle", "cluster", "revision", "actor", "message")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    TIME_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    BUNDLE_FIELD_NUMBER: _ClassVar[int]
    CLUSTER_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    seq: int
    time_unix_ms: int
    kind: str
    bundle: str
    cluster: str
    revision: str
    actor: str
    message: str
    def __init__(self, seq: _Optional[int] = ..., time_unix_ms: _Optional[int] = ..., kind: _Optional[str] = ..., bundle: _Optional[str] = ..., cluster: _Optional[str] = ..., revision: _Optional[str] = ..., actor: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class ListEventsRequest(_message.Message):
    __slots__ = ("bundle", "cluster", "kind", "since_seq", "limit")
    BUNDLE_FIELD_NUMBER: _ClassVar[int]
    CLUSTER_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SINCE_SEQ_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    bundle: str
    cluster: str
    kind: str
    since_seq: int
    limit: int
    def __init__(self, bundle: _Optional[str] = ..., cluster: _Optional[str] = ..., kind: _Optional[str] = ..., since_seq: _Optional[int] = ..., limit: _Optional[int] = ...) -> None: ...

class ListEventsResponse(_message.Message):
    __slots__ = ("events",)
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[Event]
    def __init__(self, events: _Optional[_Iterable[_Union[Event, _Mapping]]] = ...) -> None: ...

class WatchEventsRequest(_message.Message):
    __slots__ = ("bundle", "cluster", "kind", "since_seq", "limit")
    BUNDLE_FIELD_NUMBER: _ClassVar[int]
    CLUSTER_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SINCE_SEQ_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    bundle: str
    cluster: str
    kind: str
    since_seq: int
    limit: int
    def __init__(self, bundle: _Optional[str] = ..., cluster: _Optional[str] = ..., kind: _Optional[str] = ..., since_seq: _Optional[int] = ..., limit: _Optional[int] = ...) -> None: ...

class WatchEventsResponse(_message.Message):
    __slots__ = ("event",)
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: Event
    def __init__(self, event: _Optional[_Union[Event, _Mapping]] = ...) -> None: ...

class BundleRevision(_message.Message):
    __slots__ = ("rev", "revision", "created_unix", "actor", "summary", "rollback_of", "current")
    REV_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    CREATED_UNIX_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    ROLLBACK_OF_FIELD_NUMBER: _ClassVar[int]
    CURRENT_FIELD_NUMBER: _ClassVar[int]
    rev: int
    revision: str
    created_unix: int
    actor: str
    summary: str
    rollback_of: int
    current: bool
    def __init__(self, rev: _Optional[int] = ..., revision: _Optional[str] = ..., created_unix: _Optional[int] = ..., actor: _Optional[str] = ..., summary: _Optional[str] = ..., rollback_of: _Optional[int] = ..., current: _Optional[bool] = ...) -> None: ...

class GetBundleHistoryRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetBundleHistoryResponse(_message.Message):
    __slots__ = ("revisions", "pinned_rev")
    REVISIONS_FIELD_NUMBER: _ClassVar[int]
    PINNED_REV_FIELD_NUMBER: _ClassVar[int]
    revisions: _containers.RepeatedCompositeFieldContainer[BundleRevision]
    pinned_rev: int
    def __init__(self, revisions: _Optional[_Iterable[_Union[BundleRevision, _Mapping]]] = ..., pinned_rev: _Optional[int] = ...) -> None: ...

class RollbackBundleRequest(_message.Message):
    __slots__ = ("name", "to_revision")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TO_REVISION_FIELD_NUMBER: _ClassVar[int]
    name: str
    to_revision: int
    def __init__(self, name: _Optional[str] = ..., to_revision: _Optional[int] = ...) -> None: ...

class RollbackBundleResponse(_message.Message):
    __slots__ = ("bundle", "pinned_rev", "rolled_back_to")
    BUNDLE_FIELD_NUMBER: _ClassVar[int]
    PINNED_REV_FIELD_NUMBER: _ClassVar[int]
    ROLLED_BACK_TO_FIELD_NUMBER: _ClassVar[int]
    bundle: BundleApplied
    pinned_rev: int
    rolled_back_to: int
    def __init__(self, bundle: _Optional[_Union[BundleApplied, _Mapping]] = ..., pinned_rev: _Optional[int] = ..., rolled_back_to: _Optional[int] = ...) -> None: ...

class UnpinBundleRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class UnpinBundleResponse(_message.Message):
    __slots__ = ("was_pinned",)
    WAS_PINNED_FIELD_NUMBER: _ClassVar[int]
    was_pinned: bool
    def __init__(self, was_pinned: _Optional[bool] = ...) -> None: ...

class SetClusterLabelsRequest(_message.Message):
    __slots__ = ("name", "set", "remove")
    class SetEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    SET_FIELD_NUMBER: _ClassVar[int]
    REMOVE_FIELD_NUMBER: _ClassVar[int]
    name: str
    set: _containers.ScalarMap[str, str]
    remove: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., set: _Optional[_Mapping[str, str]] = ..., remove: _Optional[_Iterable[str]] = ...) -> None: ...

class SetClusterLabelsResponse(_message.Message):
    __slots__ = ("cluster",)
    CLUSTER_FIELD_NUMBER: _ClassVar[int]
    cluster: Cluster
    def __init__(self, cluster: _Optional[_Union[Cluster, _Mapping]] = ...) -> None: ...

class GetVersionRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetVersionResponse(_message.Message):
    __slots__ = ("version",)
    VERSION_FIELD_NUMBER: _ClassVar[int]
    version: str
    def __init__(self, version: _Optional[str] = ...) -> None: ...

class PlannedChange(_message.Message):
    __slots__ = ("clusters", "added", "changed", "removed", "diff", "error", "revision", "held_revision", "options_changed")
    CLUSTERS_FIELD_NUMBER: _ClassVar[int]
    ADDED_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELD_NUMBER: _ClassVar[int]
    REMOVED_FIELD_NUMBER: _ClassVar[int]
    DIFF_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    HELD_REVISION_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_CHANGED_FIELD_NUMBER: _ClassVar[int]
    clusters: _containers.RepeatedScalarFieldContainer[str]
    added: _containers.RepeatedScalarFieldContainer[str]
    changed: _containers.RepeatedScalarFieldContainer[str]
    removed: _containers.RepeatedScalarFieldContainer[str]
    diff: str
    error: str
    revision: str
    held_revision: str
    options_changed: bool
    def __init__(self, clusters: _Optional[_Iterable[str]] = ..., added: _Optional[_Iterable[str]] = ..., changed: _Optional[_Iterable[str]] = ..., removed: _Optional[_Iterable[str]] = ..., diff: _Optional[str] = ..., error: _Optional[str] = ..., revision: _Optional[str] = ..., held_revision: _Optional[str] = ..., options_changed: _Optional[bool] = ...) -> None: ...

class GetBundleDiffRequest(_message.Message):
    __slots__ = ("name", "cluster")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CLUSTER_FIELD_NUMBER: _ClassVar[int]
    name: str
    cluster: str
    def __init__(self, name: _Optional[str] = ..., cluster: _Optional[str] = ...) -> None: ...

class ClusterDiff(_message.Message):
    __slots__ = ("cluster", "state", "revision", "resources")
    CLUSTER_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    RESOURCES_FIELD_NUMBER: _ClassVar[int]
    cluster: str
    state: str
    revision: str
    resources: _containers.RepeatedCompositeFieldContainer[_resources_pb2.ResourceState]
    def __init__(self, cluster: _Optional[str] = ..., state: _Optional[str] = ..., revision: _Optional[str] = ..., resources: _Optional[_Iterable[_Union[_resources_pb2.ResourceState, _Mapping]]] = ...) -> None: ...

class GetBundleDiffResponse(_message.Message):
    __slots__ = ("clusters",)
    CLUSTERS_FIELD_NUMBER: _ClassVar[int]
    clusters: _containers.RepeatedCompositeFieldContainer[ClusterDiff]
    def __init__(self, clusters: _Optional[_Iterable[_Union[ClusterDiff, _Mapping]]] = ...) -> None: ...
