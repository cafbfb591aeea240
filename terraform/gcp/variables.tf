variable "project_id" {
  description = "Google Cloud project of the load balancers (the chart's gcp.project)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][-a-z0-9]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a Google Cloud project id (6-30 lowercase letters, digits or hyphens)."
  }
}

variable "cluster_id" {
  description = "Portico's cluster id (the chart's clusterId): part of the service account and role names and of every resource name's hash."
  type        = string

  validation {
    condition     = can(regex("^[a-z][-a-z0-9]{0,20}$", var.cluster_id))
    error_message = "cluster_id must be 1-21 characters: lowercase letters, digits or '-', starting with a letter (it becomes part of a service account id)."
  }
}

variable "namespace" {
  description = "Namespace the Helm chart is installed in; only the operator's ServiceAccount there may impersonate the Google service account."
  type        = string
  default     = "portico-system"
}

variable "service_account" {
  description = "Name of the operator's Kubernetes ServiceAccount (the chart's default is the release's full name, `portico` for a release named portico)."
  type        = string
  default     = "portico"
}

variable "gke_workload_identity" {
  description = "Bind the Kubernetes ServiceAccount through GKE Workload Identity (PROJECT.svc.id.goog). Needs Workload Identity enabled on the cluster."
  type        = bool
  default     = true
}

variable "oidc_issuer_uri" {
  description = "For clusters outside GKE (self-managed on Compute Engine, other clouds): the cluster's service account token issuer URL; creates a workload identity pool and provider for it. null: none."
  type        = string
  default     = null
}

variable "pool_id" {
  description = "Id of the workload identity pool created when oidc_issuer_uri is set."
  type        = string
  default     = "portico"
}
