// Prints the aws_resources role's templates/dashboard.json.j2 from daemons/lib/dashboard.ts (the one
// definition): node dist/test/unit/dashboard-template.js > ansible/roles/aws_resources/templates/dashboard.json.j2
import { dashboardTemplate } from '../../daemons/lib/dashboard.js';

process.stdout.write(dashboardTemplate());
