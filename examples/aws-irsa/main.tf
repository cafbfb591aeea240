# Step 1 of 2: the operator's IAM role for an existing EKS cluster. Step 2 is `helm install` with its
# outputs (see README.md).

terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}

variable "region" {
  description = "AWS region of the EKS cluster."
  type        = string
}

variable "eks_cluster_name" {
  description = "Name of the existing EKS cluster; its IAM OIDC provider must exist (eksctl utils associate-iam-oidc-provider)."
  type        = string
}

variable "cluster_id" {
  description = "Portico's cluster id (the chart's clusterId); the EKS cluster name is a good choice."
  type        = string
}

provider "aws" {
  region = var.region
}

data "aws_eks_cluster" "this" {
  name = var.eks_cluster_name
}

data "aws_iam_openid_connect_provider" "this" {
  url = data.aws_eks_cluster.this.identity[0].oidc[0].issuer
}

module "portico_irsa" {
  source = "../../terraform/aws"

  cluster_id        = var.cluster_id
  oidc_provider_arn = data.aws_iam_openid_connect_provider.this.arn
  namespace         = "portico-system"
  service_account   = "portico"
}

output "role_arn" {
  description = "Set as the chart's serviceAccount.awsRoleArn."
  value       = module.portico_irsa.role_arn
}

output "helm_values" {
  description = "Chart values matching this role: `terraform output -json helm_values > irsa-values.json`."
  value       = module.portico_irsa.helm_values
}
