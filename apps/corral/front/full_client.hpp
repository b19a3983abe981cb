#pragma once

namespace corral::cli::front {

/**
 * Replaces this process with the full client (`corral-client`: every command, every option, TCP and
 * TLS) given the same arguments. It is looked for where it is installed relative to this program
 * (../libexec/corral/), then where the build put it; $CORRAL_CLIENT names another. Returns only when
 * it cannot be run, after saying so: the status to exit with.
 */
int exec_full_client(char** argv);

}  // namespace corral::cli::front
