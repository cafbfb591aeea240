# What the operator may do in AWS: exactly the API actions the aws-alb and aws-lattice providers call, as
# recorded by their tests in providers/portico_providers/aws_alb/iam-actions.txt and
# aws_lattice/iam-actions.txt, plus the dependent actions AWS checks inside them (iam-dependent-actions.txt
# next to each; tests/install/test_terraform.py checks that these statements hold exactly those actions). Both providers are in one policy: whatever they change is scoped to this cluster's tag.
# The lists are literal so that static checks (checkov) see them.

data "aws_iam_policy_document" "operator" {
  # Describe/List/Get that AWS does not let a policy narrow to resources.
  statement {
    sid       = "Read"
    effect    = "Allow"
    resources = ["*"]
    actions = [
      "acm:ListCertificates",
      "ec2:DescribeInstances",
      "ec2:DescribeSecurityGroups",
      "ec2:DescribeSubnets",
      "ec2:DescribeVpcs",
      "elasticloadbalancing:DescribeListenerCertificates",
      "elasticloadbalancing:DescribeListeners",
      "elasticloadbalancing:DescribeLoadBalancers",
      "elasticloadbalancing:DescribeRules",
      "elasticloadbalancing:DescribeTags",
      "elasticloadbalancing:DescribeTargetGroups",
      "elasticloadbalancing:DescribeTargetHealth",
      "vpc-lattice:ListListeners",
      "vpc-lattice:ListRules",
      "vpc-lattice:ListServiceNetworkServiceAssociations",
      "vpc-lattice:ListServiceNetworkVpcAssociations",
      "vpc-lattice:ListServiceNetworks",
      "vpc-lattice:ListServices",
      "vpc-lattice:ListTagsForResource",
      "vpc-lattice:ListTargetGroups",
    ]
  }

  # Describe/List/Get of one resource: only this account's resources of the providers' types.
  statement {
    sid       = "ReadInThisAccount"
    effect    = "Allow"
    resources = local.resource_arns
    actions = [
      "acm:ListTagsForCertificate",
      "vpc-lattice:GetAuthPolicy",
      "vpc-lattice:GetListener",
      "vpc-lattice:GetRule",
      "vpc-lattice:GetService",
      "vpc-lattice:GetServiceNetwork",
      "vpc-lattice:GetServiceNetworkVpcAssociation",
      "vpc-lattice:GetTargetGroup",
      "vpc-lattice:ListTargets",
    ]
  }

  # Creating (and tagging on create): the request must tag the new resource as this cluster's.
  # AddTagsToCertificate and AddTags are the dependent actions of tagging on create.
  statement {
    sid       = "CreateTaggedForThisCluster"
    effect    = "Allow"
    resources = local.resource_arns
    actions = [
      "acm:AddTagsToCertificate",
      "acm:ImportCertificate",
      "elasticloadbalancing:AddTags",
      "elasticloadbalancing:CreateListener",
      "elasticloadbalancing:CreateLoadBalancer",
      "elasticloadbalancing:CreateRule",
      "elasticloadbalancing:CreateTargetGroup",
      "vpc-lattice:CreateListener",
      "vpc-lattice:CreateRule",
      "vpc-lattice:CreateService",
      "vpc-lattice:CreateServiceNetwork",
      "vpc-lattice:CreateServiceNetworkServiceAssociation",
      "vpc-lattice:CreateServiceNetworkVpcAssociation",
      "vpc-lattice:CreateTargetGroup",
      "vpc-lattice:TagResource",
    ]

    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/${local.cluster_tag}"
      values   = [var.cluster_id]
    }
  }

  # Changing or deleting: only resources that carry this cluster's tag. ImportCertificate is in both
  # statements: a first import tags the certificate, a re-import (a renewed Secret) acts on a tagged one.
  statement {
    sid       = "ChangeOnlyThisClustersResources"
    effect    = "Allow"
    resources = local.resource_arns
    actions = [
      "acm:AddTagsToCertificate",
      "acm:DeleteCertificate",
      "acm:ImportCertificate",
      "acm:RemoveTagsFromCertificate",
      "elasticloadbalancing:AddListenerCertificates",
      "elasticloadbalancing:AddTags",
      "elasticloadbalancing:DeleteListener",
      "elasticloadbalancing:DeleteLoadBalancer",
      "elasticloadbalancing:DeleteRule",
      "elasticloadbalancing:DeleteTargetGroup",
      "elasticloadbalancing:DeregisterTargets",
      "elasticloadbalancing:ModifyListener",
      "elasticloadbalancing:ModifyRule",
      "elasticloadbalancing:ModifyTargetGroup",
      "elasticloadbalancing:RegisterTargets",
      "elasticloadbalancing:RemoveListenerCertificates",
      "elasticloadbalancing:RemoveTags",
      "elasticloadbalancing:SetIpAddressType",
      "elasticloadbalancing:SetRulePriorities",
      "elasticloadbalancing:SetSecurityGroups",
      "elasticloadbalancing:SetSubnets",
      "vpc-lattice:BatchUpdateRule",
      "vpc-lattice:DeleteAuthPolicy",
      "vpc-lattice:DeleteListener",
      "vpc-lattice:DeleteRule",
      "vpc-lattice:DeleteService",
      "vpc-lattice:DeleteServiceNetwork",
      "vpc-lattice:DeleteServiceNetworkServiceAssociation",
      "vpc-lattice:DeleteServiceNetworkVpcAssociation",
      "vpc-lattice:DeleteTargetGroup",
      "vpc-lattice:DeregisterTargets",
      "vpc-lattice:PutAuthPolicy",
      "vpc-lattice:RegisterTargets",
      "vpc-lattice:TagResource",
      "vpc-lattice:UntagResource",
      "vpc-lattice:UpdateListener",
      "vpc-lattice:UpdateRule",
      "vpc-lattice:UpdateService",
      "vpc-lattice:UpdateServiceNetwork",
      "vpc-lattice:UpdateServiceNetworkVpcAssociation",
    ]

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/${local.cluster_tag}"
      values   = [var.cluster_id]
    }
  }
}
