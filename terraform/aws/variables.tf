variable "cluster_id" {
  description = "Portico's cluster id: the value of the portico.dev/cluster tag on every AWS resource the operator creates. Must equal the Helm chart's clusterId."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][-A-Za-z0-9_.]{0,62}$", var.cluster_id))
    error_message = "cluster_id must be 1-63 characters: letters, digits, '-', '_' or '.', starting with a letter or digit."
  }
}

variable "oidc_provider_arn" {
  description = "ARN of the EKS cluster's IAM OIDC provider (aws_iam_openid_connect_provider), e.g. arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/.+$", var.oidc_provider_arn))
    error_message = "oidc_provider_arn must be an IAM OIDC provider ARN (arn:aws:iam::ACCOUNT:oidc-provider/ISSUER)."
  }
}

variable "namespace" {
  description = "Namespace the Helm chart is installed in; only the operator's ServiceAccount there may assume the role."
  type        = string
  default     = "portico-system"
}

variable "service_account" {
  description = "Name of the operator's ServiceAccount (the chart's default is the release's full name, `portico` for a release named portico)."
  type        = string
  default     = "portico"
}

variable "role_name" {
  description = "Name of the IAM role; null means portico-<cluster_id>."
  type        = string
  default     = null
}

variable "role_path" {
  description = "Path of the IAM role and policy."
  type        = string
  default     = "/"
}

variable "permissions_boundary_arn" {
  description = "ARN of a policy to set as the role's permissions boundary; null for none."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags added to the IAM role and policy."
  type        = map(string)
  default     = {}
}
