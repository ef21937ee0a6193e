"""Dead letters: what each EMS queue's DLQ holds, a peek at it, and a redrive back (`queues`)."""
