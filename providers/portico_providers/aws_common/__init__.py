"""Pieces both AWS providers share: ownership tags, names, retries, client hooks, the
generic desired-vs-observed planner and ACM certificate import. Nothing here imports
boto3 at module level; clients are created lazily by `clients.AwsClients`."""
