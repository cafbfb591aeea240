output "client_id" {
  description = "Client id of the operator's managed identity: set it as the chart's serviceAccount.azureClientId (annotation azure.workload.identity/client-id)."
  value       = azurerm_user_assigned_identity.operator.client_id
}

output "principal_id" {
  description = "Object id of the managed identity's service principal (what the role is assigned to)."
  value       = azurerm_user_assigned_identity.operator.principal_id
}

output "role_definition_id" {
  description = "Resource id of the custom role holding the provider's actions."
  value       = azurerm_role_definition.operator.role_definition_resource_id
}

output "helm_values" {
  description = "The chart values that must match this module: pass them to helm install (-f or --set)."
  value = {
    clusterId = var.cluster_id
    serviceAccount = {
      azureClientId = azurerm_user_assigned_identity.operator.client_id
    }
    azure = {
      subscriptionId = split("/", data.azurerm_resource_group.gateways.id)[2]
      resourceGroup  = var.resource_group_name
    }
  }
}
