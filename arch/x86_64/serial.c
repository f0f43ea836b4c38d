/*
 * serial.c - COM1 (16550 UART at port 0x3f8), the console of isle.
 * The console (kernel/console.c) serializes whole lines; this file only moves bytes.
 */
#include "arch/x86_64/arch.h"
#include "arch/x86_64/serial.h"

#define COM1 0x3f8
#define UART_DATA 0
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LSR_THRE 0x20

void serial_init(void)
{
	outb(COM1 + UART_IER, 0x00);  /* no interrupts */
	outb(COM1 + UART_LCR, 0x80);  /* divisor latch */
	outb(COM1 + UART_DATA, 0x01); /* 115200 baud */
	outb(COM1 + UART_IER, 0x00);
	outb(COM1 + UART_LCR, 0x03); /* 8N1 */
	outb(COM1 + UART_FCR, 0xC7); /* FIFO on, cleared */
	outb(COM1 + UART_MCR, 0x03); /* DTR, RTS */
}

/* Waits until the transmitter is empty; then its 16-byte FIFO takes 16 bytes without another
 * look (each look is a slow exit to the hypervisor). A missing UART reads as 0xff, so this
 * never spins forever. */
static void serial_wait(void)
{
	for (int i = 0; i < 100000 && !(inb(COM1 + UART_LSR) & LSR_THRE); i++)
		cpu_pause();
}

void serial_write(const char *s, size_t n)
{
	unsigned room = 0;
	for (size_t i = 0; i < n; i++) {
		if (room < 2) {
			serial_wait();
			room = 16;
		}
		if (s[i] == '\n') {
			outb(COM1 + UART_DATA, '\r');
			room--;
		}
		outb(COM1 + UART_DATA, (uint8_t)s[i]);
		room--;
	}
}

void serial_puts(const char *s)
{
	while (*s)
		serial_write(s++, 1);
}

void arch_console_write(const char *s, size_t n)
{
	serial_write(s, n);
}
