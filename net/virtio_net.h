/* virtio_net.h - the virtio-net driver (one queue pair per core). */
#ifndef ISLE_NET_VIRTIO_NET_H
#define ISLE_NET_VIRTIO_NET_H

#include "kernel/compiler.h"

void vnet_probe(void);       /* boot core, before other cores start */
void vnet_attach_core(void); /* every core, after its lwIP is initialised */

#endif
