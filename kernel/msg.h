/* msg.h - the kernel side of messages between cores (API: include/isle/msg.h). */
#ifndef ISLE_KERNEL_MSG_H
#define ISLE_KERNEL_MSG_H

#include <isle/msg.h>
#include "kernel/compiler.h"

void msg_init(void); /* boot core, before other cores start: rings in shared memory */
size_t msg_shared_bytes(unsigned ncores); /* shared memory msg_init will take */
bool msg_poll(void);          /* handles what has arrived; true if anything was handled */
bool msg_pending(void);       /* something waits to be handled or sent */
void msg_set_idle(bool idle); /* this core is about to halt / is running again */

#endif
