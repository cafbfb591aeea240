# Step 1 of 2: the operator's Google service account for an existing GKE cluster with Workload
# Identity. Step 2 is `helm install` with its outputs (see README.md).

terraform {
  required_version = ">= 1.5.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 5.0"
    }
  }
}

variable "project_id" {
  description = "Google Cloud project of the GKE cluster and of the load balancers."
  type        = string
}

variable "cluster_id" {
  description = "Portico's cluster id (the chart's clusterId); the GKE cluster name is a good choice."
  type        = string
}

provider "google" {
  project = var.project_id
}

module "portico_gcp" {
  source = "../../terraform/gcp"

  project_id      = var.project_id
  cluster_id      = var.cluster_id
  namespace       = "portico-system"
  service_account = "portico"
}

output "service_account_email" {
  description = "Set as the chart's serviceAccount.gcpServiceAccount."
  value       = module.portico_gcp.service_account_email
}

output "helm_values" {
  description = "Chart values matching this service account: `terraform output -json helm_values > gcp-values.json`."
  value       = module.portico_gcp.helm_values
}
