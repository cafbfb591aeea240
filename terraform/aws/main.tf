# The operator's IAM role for IRSA: only the chart's ServiceAccount in var.namespace, through the
# cluster's OIDC provider, may assume it; it may only touch AWS resources tagged with var.cluster_id.

locals {
  # arn:aws:iam::ACCOUNT:oidc-provider/ISSUER -> ISSUER, the prefix of the token's condition keys.
  oidc_issuer = element(split(":oidc-provider/", var.oidc_provider_arn), 1)
  role_name   = coalesce(var.role_name, "portico-${var.cluster_id}")
  cluster_tag = "portico.dev/cluster"

  # What the providers create, in this account only; the tag conditions narrow it to this cluster's.
  arn_prefix = "arn:${data.aws_partition.current.partition}"
  account    = data.aws_caller_identity.current.account_id
  resource_arns = [
    "${local.arn_prefix}:elasticloadbalancing:*:${local.account}:loadbalancer/app/*",
    "${local.arn_prefix}:elasticloadbalancing:*:${local.account}:listener/app/*",
    "${local.arn_prefix}:elasticloadbalancing:*:${local.account}:listener-rule/app/*",
    "${local.arn_prefix}:elasticloadbalancing:*:${local.account}:targetgroup/*",
    "${local.arn_prefix}:acm:*:${local.account}:certificate/*",
    "${local.arn_prefix}:ec2:*:${local.account}:security-group/*",
    "${local.arn_prefix}:ec2:*:${local.account}:security-group-rule/*",
    "${local.arn_prefix}:vpc-lattice:*:${local.account}:*",
  ]
}

data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

data "aws_iam_policy_document" "trust" {
  statement {
    sid     = "OperatorServiceAccount"
    effect  = "Allow"
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [var.oidc_provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.oidc_issuer}:sub"
      values   = ["system:serviceaccount:${var.namespace}:${var.service_account}"]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.oidc_issuer}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "operator" {
  name                 = local.role_name
  path                 = var.role_path
  description          = "Portico operator (cluster ${var.cluster_id}), assumed by ${var.namespace}/${var.service_account} through IRSA"
  assume_role_policy   = data.aws_iam_policy_document.trust.json
  permissions_boundary = var.permissions_boundary_arn
  max_session_duration = 3600
  tags                 = var.tags
}

resource "aws_iam_policy" "operator" {
  name        = local.role_name
  path        = var.role_path
  description = "What the Portico providers call, limited to resources tagged portico.dev/cluster=${var.cluster_id}"
  policy      = data.aws_iam_policy_document.operator.json
  tags        = var.tags
}

resource "aws_iam_role_policy_attachment" "operator" {
  role       = aws_iam_role.operator.name
  policy_arn = aws_iam_policy.operator.arn
}
