/*
 * rtc.c - the wall clock at boot, from the CMOS real-time clock (ports 0x70/0x71).
 *
 * Read once by the boot core. The RTC counts in seconds, in BCD or binary and 12- or 24-hour
 * form as its status register B says; an update may be under way while we read, so the time is
 * read until two reads in a row agree (bounded). Machines without an RTC (microvm with rtc=off)
 * read as all ones: that gives 0, "unknown".
 */
#include "arch/x86_64/arch.h"
#include "arch/x86_64/cpu.h"

#define CMOS_ADDR 0x70
#define CMOS_DATA 0x71

static uint8_t cmos(uint8_t reg)
{
	outb(CMOS_ADDR, reg); /* bit 7 clear: NMIs stay enabled */
	return inb(CMOS_DATA);
}

struct rtc_time {
	uint8_t sec, min, hour, day, mon, year, century;
};

static void read_raw(struct rtc_time *t)
{
	for (int i = 0; i < 10000 && (cmos(0x0a) & 0x80); i++) /* update in progress */
		;
	t->sec = cmos(0x00);
	t->min = cmos(0x02);
	t->hour = cmos(0x04);
	t->day = cmos(0x07);
	t->mon = cmos(0x08);
	t->year = cmos(0x09);
	t->century = cmos(0x32);
}

static unsigned bcd(uint8_t v)
{
	return (v & 15) + (v >> 4) * 10u;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian), after H. Hinnant's days_from_civil. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

int64_t arch_rtc_seconds(void)
{
	struct rtc_time a, b;
	read_raw(&b);
	for (int i = 0; i < 5; i++) {
		a = b;
		read_raw(&b);
		if (__builtin_memcmp(&a, &b, sizeof(a)) == 0)
			break;
	}
	if (b.sec == 0xff && b.min == 0xff)
		return 0; /* no RTC */
	uint8_t regb = cmos(0x0b);
	bool binary = regb & 4, h24 = regb & 2;
	bool pm = !h24 && (b.hour & 0x80);
	uint8_t hour_raw = b.hour & 0x7f;
	unsigned sec = binary ? b.sec : bcd(b.sec), min = binary ? b.min : bcd(b.min);
	unsigned hour = binary ? hour_raw : bcd(hour_raw);
	unsigned day = binary ? b.day : bcd(b.day), mon = binary ? b.mon : bcd(b.mon);
	unsigned year = binary ? b.year : bcd(b.year);
	unsigned century = b.century ? (binary ? b.century : bcd(b.century)) : 20;
	if (!h24)
		hour = hour % 12 + (pm ? 12 : 0);
	if (sec > 59 || min > 59 || hour > 23 || day < 1 || day > 31 || mon < 1 || mon > 12 ||
	    century < 19 || century > 30)
		return 0; /* nonsense: unknown */
	int64_t days = days_from_civil(century * 100 + year, mon, day);
	return days * 86400 + hour * 3600 + min * 60 + sec;
}
