"""What both AWS providers add to the provider kit: tag ownership with `portico.dev/*` keys, AWS
error meanings and retries, boto3 clients with call counting, and ACM certificate import.
Nothing here imports boto3 at module level; clients are created lazily by `clients.AwsClients`."""
