/* Terminals: the pty is allocated inside the container (from its own
   devpts), becomes the init's controlling terminal and /dev/console, and
   the master goes back to the runtime. */
#ifndef SKIFF_TERMINAL_H
#define SKIFF_TERMINAL_H

#include "error.h"
#include "ocispec.h"

/* In the container after pivot: returns the master fd (O_CLOEXEC). */
int terminal_setup_in_container (const oci_process *p, bool bind_console, skiff_error_t *err);
/* Runtime side of a foreground run without --console-socket: copy between
   our stdin/stdout and the master until the master closes; raw mode and
   window size follow our own terminal and are restored after. */
struct terminal_proxy;
int terminal_proxy_start (int master, struct terminal_proxy **out, skiff_error_t *err);
/* Pump data once; returns 0 while running, 1 when the master is gone. */
int terminal_proxy_pump (struct terminal_proxy *t, int timeout_ms);
void terminal_proxy_stop (struct terminal_proxy *t);
/* Connect to the --console-socket path and send the master. */
int terminal_send_to_socket (const char *path, int master, skiff_error_t *err);

#endif
