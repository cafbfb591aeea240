# The AWS API actions the providers call, as recorded by their tests in
# providers/portico_providers/aws_alb/iam-actions.txt and aws_lattice/iam-actions.txt.
# tests/install/test_terraform.py checks that these lists hold exactly those actions.
#
# read:   Describe/List/Get that AWS does not let a policy narrow to resources;
# read_scoped: Describe/List/Get on one resource, allowed on this account's resources of the providers' types;
# create: called with tags on the request; allowed only when the new resource is tagged
#         portico.dev/cluster=<cluster_id> (aws:RequestTag);
# owned:  act on an existing resource; allowed only when it carries that tag (aws:ResourceTag).
# An action in both create and owned is called both ways (e.g. a certificate imported, then re-imported).

locals {
  alb_actions = {
    read = [
      "acm:ListCertificates",
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
    ]

    read_scoped = [
      "acm:DescribeCertificate",
      "acm:ListTagsForCertificate",
    ]

    create = [
      "acm:ImportCertificate",
      "elasticloadbalancing:AddTags",
      "elasticloadbalancing:CreateListener",
      "elasticloadbalancing:CreateLoadBalancer",
      "elasticloadbalancing:CreateRule",
      "elasticloadbalancing:CreateTargetGroup",
    ]

    owned = [
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
      "elasticloadbalancing:ModifyLoadBalancerAttributes",
      "elasticloadbalancing:ModifyRule",
      "elasticloadbalancing:ModifyTargetGroup",
      "elasticloadbalancing:RegisterTargets",
      "elasticloadbalancing:RemoveListenerCertificates",
      "elasticloadbalancing:RemoveTags",
      "elasticloadbalancing:SetIpAddressType",
      "elasticloadbalancing:SetRulePriorities",
      "elasticloadbalancing:SetSecurityGroups",
      "elasticloadbalancing:SetSubnets",
    ]
  }

  lattice_actions = {
    read = [
      "vpc-lattice:ListListeners",
      "vpc-lattice:ListRules",
      "vpc-lattice:ListServiceNetworkServiceAssociations",
      "vpc-lattice:ListServiceNetworkVpcAssociations",
      "vpc-lattice:ListServiceNetworks",
      "vpc-lattice:ListServices",
      "vpc-lattice:ListTagsForResource",
      "vpc-lattice:ListTargetGroups",
    ]

    read_scoped = [
      "vpc-lattice:GetListener",
      "vpc-lattice:GetService",
      "vpc-lattice:GetServiceNetwork",
      "vpc-lattice:GetTargetGroup",
      "vpc-lattice:ListTargets",
    ]

    create = [
      "vpc-lattice:CreateListener",
      "vpc-lattice:CreateRule",
      "vpc-lattice:CreateService",
      "vpc-lattice:CreateServiceNetwork",
      "vpc-lattice:CreateServiceNetworkServiceAssociation",
      "vpc-lattice:CreateServiceNetworkVpcAssociation",
      "vpc-lattice:CreateTargetGroup",
      "vpc-lattice:TagResource",
    ]

    owned = [
      "vpc-lattice:DeleteListener",
      "vpc-lattice:DeleteRule",
      "vpc-lattice:DeleteService",
      "vpc-lattice:DeleteServiceNetwork",
      "vpc-lattice:DeleteServiceNetworkServiceAssociation",
      "vpc-lattice:DeleteServiceNetworkVpcAssociation",
      "vpc-lattice:DeleteTargetGroup",
      "vpc-lattice:DeregisterTargets",
      "vpc-lattice:RegisterTargets",
      "vpc-lattice:TagResource",
      "vpc-lattice:UntagResource",
      "vpc-lattice:UpdateListener",
      "vpc-lattice:UpdateRule",
      "vpc-lattice:UpdateService",
    ]
  }
}
