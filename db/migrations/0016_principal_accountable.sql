ALTER TABLE "principals" ADD COLUMN "accountable_to" text;--> statement-breakpoint
CREATE INDEX "principals_accountable_idx" ON "principals" USING btree ("accountable_to");