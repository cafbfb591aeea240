# The operator's Azure identity for AKS Workload Identity: a user-assigned managed identity that only
# the chart's ServiceAccount can federate with, holding a custom role whose actions are exactly the ARM
# operations the azure-appgw provider was recorded calling in its tests
# (providers/portico_providers/azure_appgw/azure-actions.txt; tests/providers/azure/test_azure_actions.py
# checks this list against it). The role is assigned at the resource group the gateways live in, at the
# Application Gateway subnet (joining it), and at any extra scope the parameters name.

locals {
  identity_name = coalesce(var.identity_name, "portico-${var.cluster_id}")
  scopes        = concat([data.azurerm_resource_group.gateways.id, var.gateway_subnet_id], var.extra_scopes)
}

data "azurerm_resource_group" "gateways" {
  name = var.resource_group_name
}

resource "azurerm_user_assigned_identity" "operator" {
  name                = local.identity_name
  resource_group_name = data.azurerm_resource_group.gateways.name
  location            = var.location
  tags                = var.tags
}

resource "azurerm_federated_identity_credential" "operator" {
  name                = "portico-${var.cluster_id}"
  resource_group_name = data.azurerm_resource_group.gateways.name
  parent_id           = azurerm_user_assigned_identity.operator.id
  issuer              = var.oidc_issuer_url
  subject             = "system:serviceaccount:${var.namespace}:${var.service_account}"
  audience            = ["api://AzureADTokenExchange"]
}

resource "azurerm_role_definition" "operator" {
  name              = "Portico operator (${var.cluster_id})"
  scope             = data.azurerm_resource_group.gateways.id
  description       = "What the Portico azure-appgw provider calls, as recorded by its tests"
  assignable_scopes = local.scopes

  permissions {
    actions = [
      "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action",
      "Microsoft.Network/ApplicationGatewayWebApplicationFirewallPolicies/join/action",
      "Microsoft.Network/applicationGateways/delete",
      "Microsoft.Network/applicationGateways/read",
      "Microsoft.Network/applicationGateways/write",
      "Microsoft.Network/locations/operations/read",
      "Microsoft.Network/publicIPAddresses/delete",
      "Microsoft.Network/publicIPAddresses/join/action",
      "Microsoft.Network/publicIPAddresses/read",
      "Microsoft.Network/publicIPAddresses/write",
      "Microsoft.Network/virtualNetworks/subnets/join/action",
    ]
    not_actions = []
  }
}

resource "azurerm_role_assignment" "operator" {
  for_each           = toset(local.scopes)
  scope              = each.value
  role_definition_id = azurerm_role_definition.operator.role_definition_resource_id
  principal_id       = azurerm_user_assigned_identity.operator.principal_id
  principal_type     = "ServicePrincipal"
}
