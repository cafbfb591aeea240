variable "cluster_id" {
  description = "Portico's cluster id: the value of the portico.dev.cluster tag on every Azure resource the operator creates. Must equal the Helm chart's clusterId."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][-A-Za-z0-9_.]{0,62}$", var.cluster_id))
    error_message = "cluster_id must be 1-63 characters: letters, digits, '-', '_' or '.', starting with a letter or digit."
  }
}

variable "resource_group_name" {
  description = "The resource group the operator creates its Application Gateways and public IPs in (the chart's azure.resourceGroup). The identity lives there too."
  type        = string
}

variable "location" {
  description = "Azure region of the managed identity (the resource group's, usually)."
  type        = string
}

variable "oidc_issuer_url" {
  description = "The AKS cluster's OIDC issuer URL (azurerm_kubernetes_cluster.oidc_issuer_url; the cluster needs oidc_issuer_enabled and workload_identity_enabled)."
  type        = string

  validation {
    condition     = can(regex("^https://", var.oidc_issuer_url))
    error_message = "oidc_issuer_url must be an https URL."
  }
}

variable "gateway_subnet_id" {
  description = "Resource id of the dedicated Application Gateway subnet (the GatewayParameters' spec.azure.subnetId): the operator must be allowed to join it."
  type        = string
}

variable "extra_scopes" {
  description = "Further scopes the role is assigned at: a WAF policy (firewallPolicyId), a user-assigned identity for Key Vault certificates (identityId), a public IP in another resource group (publicIpId)."
  type        = list(string)
  default     = []
}

variable "namespace" {
  description = "Namespace the Helm chart is installed in; only the operator's ServiceAccount there may use the identity."
  type        = string
  default     = "portico-system"
}

variable "service_account" {
  description = "Name of the operator's ServiceAccount (the chart's default is the release's full name, `portico` for a release named portico)."
  type        = string
  default     = "portico"
}

variable "identity_name" {
  description = "Name of the user-assigned managed identity; null means portico-<cluster_id>."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for the identity."
  type        = map(string)
  default     = {}
}
