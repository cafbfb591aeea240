output "role_arn" {
  description = "ARN of the operator's IAM role: set it as the chart's serviceAccount.awsRoleArn (annotation eks.amazonaws.com/role-arn)."
  value       = aws_iam_role.operator.arn
}

output "role_name" {
  description = "Name of the operator's IAM role."
  value       = aws_iam_role.operator.name
}

output "policy_arn" {
  description = "ARN of the policy holding the providers' actions, attached to the role."
  value       = aws_iam_policy.operator.arn
}

output "helm_values" {
  description = "The chart values that must match this module: pass them to helm install (-f or --set)."
  value = {
    clusterId = var.cluster_id
    serviceAccount = {
      awsRoleArn = aws_iam_role.operator.arn
    }
  }
}
