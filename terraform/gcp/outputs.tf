output "service_account_email" {
  description = "E-mail of the operator's Google service account: the chart's serviceAccount.gcpServiceAccount (annotation iam.gke.io/gcp-service-account)."
  value       = google_service_account.operator.email
}

output "custom_role" {
  description = "Name of the custom role (projects/PROJECT/roles/ROLE) granted to the service account."
  value       = google_project_iam_custom_role.operator.name
}

output "workload_identity_provider" {
  description = "Full name of the workload identity pool provider (clusters outside GKE), for the operator's credential configuration; null on GKE."
  value       = var.oidc_issuer_uri == null ? null : google_iam_workload_identity_pool_provider.cluster[0].name
}

output "helm_values" {
  description = "Chart values matching this service account: `terraform output -json helm_values > gcp-values.json`."
  value = {
    clusterId = var.cluster_id
    gcp = {
      project = var.project_id
    }
    serviceAccount = {
      name              = var.service_account
      gcpServiceAccount = google_service_account.operator.email
    }
  }
}
