"""What both AWS providers add to the kit's flow: boto3 clients, tag ownership, AWS error meanings,
and mutations counted at the SDK."""

from __future__ import annotations

from portico.ir import ObjectKey
from portico.provider import ProviderContext
from portico_providers.aws_common.clients import AwsClients
from portico_providers.aws_common.retry import AWS_ERRORS, AwsErrors
from portico_providers.aws_common.tags import Owner
from portico_providers.kit.flow import CloudProvider


class AwsProvider(CloudProvider[Owner]):
    id_label = "arn"
    account = "the AWS account"

    def __init__(self, context: ProviderContext) -> None:
        super().__init__(context)
        self.clients = AwsClients(context.options)

    def ownership(self, gateway: ObjectKey) -> Owner:
        return Owner(self.context.cluster_id, gateway)

    @property
    def classifier(self) -> AwsErrors:
        return AWS_ERRORS

    def mutation_count(self) -> int:
        return self.clients.counter.mutations
