# The operator's Google service account: a custom role with exactly the Compute permissions the
# gcp-alb provider uses (providers/portico_providers/gcp_alb/gcp-permissions.txt, recorded by the
# tests), impersonated only by the chart's Kubernetes ServiceAccount through Workload Identity.

locals {
  kubernetes_subject = "system:serviceaccount:${var.namespace}:${var.service_account}"

  # Kept equal to gcp-permissions.txt by tests/install/test_terraform_gcp.py.
  permissions = [
    "compute.addresses.create",
    "compute.addresses.delete",
    "compute.addresses.list",
    "compute.addresses.use",
    "compute.backendServices.create",
    "compute.backendServices.delete",
    "compute.backendServices.list",
    "compute.backendServices.update",
    "compute.backendServices.use",
    "compute.forwardingRules.create",
    "compute.forwardingRules.delete",
    "compute.forwardingRules.list",
    "compute.globalAddresses.create",
    "compute.globalAddresses.delete",
    "compute.globalAddresses.list",
    "compute.globalAddresses.use",
    "compute.globalForwardingRules.create",
    "compute.globalForwardingRules.delete",
    "compute.globalForwardingRules.list",
    "compute.globalOperations.get",
    "compute.healthChecks.create",
    "compute.healthChecks.delete",
    "compute.healthChecks.list",
    "compute.healthChecks.update",
    "compute.healthChecks.useReadOnly",
    "compute.instanceGroups.create",
    "compute.instanceGroups.delete",
    "compute.instanceGroups.list",
    "compute.instanceGroups.update",
    "compute.instanceGroups.use",
    "compute.instances.use",
    "compute.networkEndpointGroups.attachNetworkEndpoints",
    "compute.networkEndpointGroups.create",
    "compute.networkEndpointGroups.delete",
    "compute.networkEndpointGroups.detachNetworkEndpoints",
    "compute.networkEndpointGroups.list",
    "compute.networkEndpointGroups.listNetworkEndpoints",
    "compute.networkEndpointGroups.use",
    "compute.networks.use",
    "compute.regionBackendServices.create",
    "compute.regionBackendServices.delete",
    "compute.regionBackendServices.update",
    "compute.regionBackendServices.use",
    "compute.regionHealthChecks.create",
    "compute.regionHealthChecks.delete",
    "compute.regionHealthChecks.update",
    "compute.regionHealthChecks.useReadOnly",
    "compute.regionOperations.get",
    "compute.regionSslCertificates.create",
    "compute.regionSslCertificates.delete",
    "compute.regionSslCertificates.get",
    "compute.regionTargetHttpProxies.create",
    "compute.regionTargetHttpProxies.delete",
    "compute.regionTargetHttpProxies.use",
    "compute.regionTargetHttpsProxies.create",
    "compute.regionTargetHttpsProxies.delete",
    "compute.regionTargetHttpsProxies.setSslCertificates",
    "compute.regionTargetHttpsProxies.use",
    "compute.regionUrlMaps.create",
    "compute.regionUrlMaps.delete",
    "compute.regionUrlMaps.update",
    "compute.regionUrlMaps.use",
    "compute.sslCertificates.create",
    "compute.sslCertificates.delete",
    "compute.sslCertificates.get",
    "compute.sslCertificates.list",
    "compute.subnetworks.list",
    "compute.subnetworks.use",
    "compute.targetHttpProxies.create",
    "compute.targetHttpProxies.delete",
    "compute.targetHttpProxies.list",
    "compute.targetHttpProxies.use",
    "compute.targetHttpsProxies.create",
    "compute.targetHttpsProxies.delete",
    "compute.targetHttpsProxies.list",
    "compute.targetHttpsProxies.setSslCertificates",
    "compute.targetHttpsProxies.use",
    "compute.urlMaps.create",
    "compute.urlMaps.delete",
    "compute.urlMaps.list",
    "compute.urlMaps.update",
    "compute.urlMaps.use",
    "compute.zoneOperations.get",
  ]
}

resource "google_service_account" "operator" {
  project      = var.project_id
  account_id   = "portico-${var.cluster_id}"
  display_name = "Portico operator (cluster ${var.cluster_id})"
  description  = "Impersonated by ${var.namespace}/${var.service_account} through Workload Identity; creates the gcp-alb load balancers."
}

resource "google_project_iam_custom_role" "operator" {
  project     = var.project_id
  role_id     = "portico_${replace(var.cluster_id, "-", "_")}"
  title       = "Portico operator (${var.cluster_id})"
  description = "The Compute permissions the Portico gcp-alb provider uses, and no other."
  permissions = local.permissions
}

resource "google_project_iam_member" "operator" {
  project = var.project_id
  role    = google_project_iam_custom_role.operator.name
  member  = "serviceAccount:${google_service_account.operator.email}"
}

# GKE: the Kubernetes ServiceAccount impersonates the Google one (iam.gke.io/gcp-service-account annotation).
resource "google_service_account_iam_member" "gke" {
  count              = var.gke_workload_identity ? 1 : 0
  service_account_id = google_service_account.operator.name
  role               = "roles/iam.workloadIdentityUser"
  member             = "serviceAccount:${var.project_id}.svc.id.goog[${var.namespace}/${var.service_account}]"
}

# Other clusters: the cluster's token issuer becomes a workload identity pool provider; only the
# operator's ServiceAccount token is accepted and may impersonate the Google service account.
resource "google_iam_workload_identity_pool" "cluster" {
  count                     = var.oidc_issuer_uri == null ? 0 : 1
  project                   = var.project_id
  workload_identity_pool_id = var.pool_id
  display_name              = "Portico ${var.cluster_id}"
  description               = "Kubernetes cluster ${var.cluster_id} (Portico operator)"
}

resource "google_iam_workload_identity_pool_provider" "cluster" {
  count                              = var.oidc_issuer_uri == null ? 0 : 1
  project                            = var.project_id
  workload_identity_pool_id          = google_iam_workload_identity_pool.cluster[0].workload_identity_pool_id
  workload_identity_pool_provider_id = "kubernetes"
  display_name                       = "Kubernetes ${var.cluster_id}"
  attribute_mapping = {
    "google.subject" = "assertion.sub"
  }
  attribute_condition = "assertion.sub == '${local.kubernetes_subject}'"

  oidc {
    issuer_uri = var.oidc_issuer_uri
  }
}

resource "google_service_account_iam_member" "pool" {
  count              = var.oidc_issuer_uri == null ? 0 : 1
  service_account_id = google_service_account.operator.name
  role               = "roles/iam.workloadIdentityUser"
  member             = "principal://iam.googleapis.com/${google_iam_workload_identity_pool.cluster[0].name}/subject/${local.kubernetes_subject}"
}
