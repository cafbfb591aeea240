# Step 1 of 2: the operator's identity for an existing AKS cluster with Workload Identity. Step 2 is
# `helm install` with its outputs (see README.md).

terraform {
  required_version = ">= 1.5.0"

  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = ">= 3.90"
    }
  }
}

variable "aks_cluster_name" {
  description = "Name of the existing AKS cluster (oidc_issuer_enabled and workload_identity_enabled must be true)."
  type        = string
}

variable "aks_resource_group" {
  description = "Resource group of the AKS cluster."
  type        = string
}

variable "gateways_resource_group" {
  description = "Resource group for the Application Gateways Portico creates (it must exist)."
  type        = string
}

variable "gateway_subnet_id" {
  description = "Resource id of the dedicated Application Gateway subnet in the cluster's virtual network."
  type        = string
}

variable "cluster_id" {
  description = "Portico's cluster id (the chart's clusterId); the AKS cluster name is a good choice."
  type        = string
}

provider "azurerm" {
  features {}
}

data "azurerm_kubernetes_cluster" "this" {
  name                = var.aks_cluster_name
  resource_group_name = var.aks_resource_group
}

module "portico_identity" {
  source = "../../terraform/azure"

  cluster_id          = var.cluster_id
  resource_group_name = var.gateways_resource_group
  location            = data.azurerm_kubernetes_cluster.this.location
  oidc_issuer_url     = data.azurerm_kubernetes_cluster.this.oidc_issuer_url
  gateway_subnet_id   = var.gateway_subnet_id
  namespace           = "portico-system"
  service_account     = "portico"
}

output "client_id" {
  description = "Set as the chart's serviceAccount.azureClientId."
  value       = module.portico_identity.client_id
}

output "helm_values" {
  description = "Chart values matching this identity: `terraform output -json helm_values > azure-values.json`."
  value       = module.portico_identity.helm_values
}
